import { describe, expect, it } from 'vitest'
import { describeAttempts, describeRequeues, requeueBadge } from './requeue-history'

describe('requeue history', () => {
  it('says nothing more for a dead letter never requeued', () => {
    const letter = { attempts: 3, requeues: 0, requeuedAt: null, attemptsThisLife: 3 }
    expect(requeueBadge(letter)).toBeUndefined()
    expect(describeRequeues(letter)).toBe('never')
    expect(describeAttempts(letter)).toBe('3')
  })

  it('names how often and when it was last requeued, and the attempts of this life apart from all', () => {
    const letter = { attempts: 9, requeues: 2, requeuedAt: '2024-05-01T10:31:00.000Z', attemptsThisLife: 3 }
    expect(requeueBadge(letter)).toBe('requeued 2×')
    expect(describeRequeues(letter)).toBe('2 times, last 2024-05-01 10:31:00 UTC')
    expect(describeRequeues({ ...letter, requeues: 1 })).toBe('once, last 2024-05-01 10:31:00 UTC')
    expect(describeAttempts(letter)).toBe('9 in all, 3 since the last requeue')
  })
})
