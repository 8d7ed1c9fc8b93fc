import { describe, expect, it } from 'vitest'
import { createHeartbeat, type HeartbeatTarget } from './heartbeat.js'

function target(overrides: Partial<HeartbeatTarget> = {}): HeartbeatTarget {
  return { state: 'open', openedAt: 0, handshakeStartedAt: 0, lastSeenAt: 0, lastPingAt: 0, ...overrides }
}

function setup(targets: HeartbeatTarget[]) {
  const pinged: HeartbeatTarget[] = []
  const reaped: HeartbeatTarget[] = []
  const expired: HeartbeatTarget[] = []
  const heartbeat = createHeartbeat({
    intervalMs: 1000,
    handshakeTimeoutMs: 500,
    targets: () => targets,
    ping: (t) => pinged.push(t),
    reap: (t) => reaped.push(t),
    handshakeExpired: (t) => expired.push(t),
  })
  return { heartbeat, pinged, reaped, expired }
}

describe('heartbeat', () => {
  it('pings a connection silent for one interval, once per interval', () => {
    const quiet = target()
    const { heartbeat, pinged } = setup([quiet])
    heartbeat.tick(500)
    expect(pinged).toHaveLength(0)
    heartbeat.tick(1000)
    heartbeat.tick(1500)
    expect(pinged).toEqual([quiet])
    heartbeat.tick(2000)
    expect(pinged).toHaveLength(2)
  })

  it('does not ping a connection heard from during the last interval', () => {
    const { heartbeat, pinged } = setup([target({ lastSeenAt: 900 })])
    heartbeat.tick(1500)
    expect(pinged).toHaveLength(0)
  })

  it('reaps a connection silent for more than two intervals', () => {
    const quiet = target()
    const { heartbeat, reaped } = setup([quiet])
    heartbeat.tick(2000)
    expect(reaped).toHaveLength(0)
    heartbeat.tick(2001)
    expect(reaped).toEqual([quiet])
  })

  it('expires a connection that has not completed the handshake in time', () => {
    const pending = target({ state: 'handshaking' })
    const { heartbeat, expired, reaped } = setup([pending])
    heartbeat.tick(500)
    expect(expired).toHaveLength(0)
    heartbeat.tick(501)
    expect(expired).toEqual([pending])
    expect(reaped).toHaveLength(0)
  })

  it('times the handshake from when it (re)started, not from the connect', () => {
    // A paired device goes back to the handshake (its challenge) long after it connected.
    const restarted = target({ state: 'handshaking', openedAt: 0, handshakeStartedAt: 10_000 })
    const { heartbeat, expired } = setup([restarted])
    heartbeat.tick(10_500)
    expect(expired).toHaveLength(0)
    heartbeat.tick(10_501)
    expect(expired).toEqual([restarted])
  })
})
