import { describe, expect, it } from 'vitest'
import { aggregate } from './presence-entries.js'

const entry = (clientId: string, principal: string, status: string, lastSeen: number, connections = 1) => ({
  clientId,
  principal,
  status,
  metadata: {},
  lastSeen,
  connections,
})

describe('aggregate', () => {
  it('takes the status of the most recently active client, sums connections and keeps the latest lastSeen', () => {
    expect(
      aggregate([
        entry('w1', 'pk_a', 'online', 100, 2),
        entry('w2', 'pk_a', 'busy', 300),
        entry('w3', 'pk_a', 'away', 200),
        entry('x', 'pk_b', 'online', 50),
      ]),
    ).toEqual([
      { principal: 'pk_a', status: 'busy', clients: ['w1', 'w2', 'w3'], connections: 4, lastSeen: 300 },
      { principal: 'pk_b', status: 'online', clients: ['x'], connections: 1, lastSeen: 50 },
    ])
  })
})
