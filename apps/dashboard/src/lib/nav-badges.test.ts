import { describe, expect, it } from 'vitest'
import { newDeadLetters, nextDeadLettersSeen, parseSeen, pendingPairingCount } from './nav-badges'

describe('nav badges', () => {
  it('counts chat senders and devices waiting together', () => {
    expect(pendingPairingCount(2, 3)).toBe(5)
    expect(pendingPairingCount(undefined, 1)).toBe(1)
  })

  it('counts the whole dead-letter queue for a browser that never looked', () => {
    expect(newDeadLetters(4, null)).toBe(4)
  })

  it('counts only dead letters added since the operator last looked', () => {
    expect(newDeadLetters(7, 4)).toBe(3)
    expect(newDeadLetters(4, 4)).toBe(0)
  })

  it('follows the queue while the Deliveries page is open and when it shrinks elsewhere', () => {
    expect(nextDeadLettersSeen(9, 4, true)).toBe(9)
    expect(nextDeadLettersSeen(2, 4, false)).toBe(2)
    expect(nextDeadLettersSeen(6, 4, false)).toBe(4)
    expect(nextDeadLettersSeen(6, null, false)).toBeNull()
  })

  it('reads an unreadable stored baseline as never looked', () => {
    expect(parseSeen('3')).toBe(3)
    expect(parseSeen('x')).toBeNull()
    expect(parseSeen('-1')).toBeNull()
    expect(parseSeen(null)).toBeNull()
  })
})
