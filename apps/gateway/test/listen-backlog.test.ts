import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { hasCommand } from './support/commands.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

// The listen backlog is not readable from Node; Linux's `ss` reports it as a listening socket's Send-Q.
// Skipped where there is no `ss` or no /proc (not Linux): nothing else shows the backlog.
const canRead =
  process.platform === 'linux' && existsSync('/proc/sys/net/core/somaxconn') && hasCommand('ss', ['-V'])

/** The backlog of the socket listening on `port`, as the kernel holds it. */
function listenBacklog(port: number): number {
  const line = execFileSync('ss', ['-Hltn', `sport = :${port}`])
    .toString()
    .trim()
  // State Recv-Q Send-Q Local Peer: for a listening socket Send-Q is the backlog.
  return Number(line.split(/\s+/)[2])
}

let gateway: TestGateway | undefined

afterEach(async () => {
  await gateway?.dispose()
  gateway = undefined
})

describe.skipIf(!canRead)('listen backlog (http.backlog)', () => {
  it('listens with the configured http.backlog as its accept queue', async () => {
    gateway = await startTestGateway({ http: { backlog: 37 } })
    expect(listenBacklog(Number(new URL(gateway.started.url).port))).toBe(37)
  })

  it('queues up to 4096 connections by default (capped by net.core.somaxconn), not Node’s 511', async () => {
    gateway = await startTestGateway()
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'))
    expect(listenBacklog(Number(new URL(gateway.started.url).port))).toBe(Math.min(4096, somaxconn))
  })
})
