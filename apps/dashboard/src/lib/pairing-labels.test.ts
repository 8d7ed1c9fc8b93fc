import { describe, expect, it } from 'vitest'
import { senderLabel } from './pairing-labels'

describe('senderLabel', () => {
  it('quotes the display name and names the channel type and sender', () => {
    expect(senderLabel({ channelType: 'telegram', senderId: '48213377', displayName: 'Ana' })).toBe(
      '"Ana" (telegram 48213377)',
    )
  })

  it('keeps markup in a name as characters', () => {
    const label = senderLabel({
      channelType: 'slack',
      senderId: 'U1',
      displayName: '<img src=x onerror=alert(1)>',
    })
    expect(label).toBe('"<img src=x onerror=alert(1)>" (slack U1)')
  })

  it('falls back to the channel type and sender without a name', () => {
    expect(senderLabel({ channelType: 'slack', senderId: 'U1', displayName: null })).toBe('slack U1')
    expect(senderLabel({ channelType: 'slack', senderId: 'U1', displayName: '  ' })).toBe('slack U1')
  })
})
