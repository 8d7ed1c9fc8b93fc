/**
 * A load process of the connections scenario (forked by connections-scenario.ts): holds its share of the idle
 * connections from its own 127.0.0.x address, each subscribed to one channel, and reports what each received.
 * Well below the process's open-file limit: the orchestrator gives each process at most IDLE_CLIENTS_PER_PROCESS.
 */

import type { TargetName } from '../options.js'
import type { BenchConnection } from './clients.js'
import { openIdleClient } from './idle-clients.js'
import { openAll } from './worker-io.js'

/**
 * One handshake's limit. Longer than the other scenarios' 15 s: thousands of handshakes queue at the server
 * (Parley records a session and two audit rows per connection), and this scenario measures holding them.
 */
const IDLE_CONNECT_TIMEOUT_MS = 60_000

export interface IdleWorkerConfig {
  target: TargetName
  baseUrl: string
  localAddress: string | undefined
  /** This process's connections: global indexes `first` to `first + count - 1`. */
  first: number
  count: number
  /** Connection `i` subscribes to channel `channels[i % channels.length]`. */
  channels: string[]
  connectConcurrency: number
  /** The process exits on its own after this long, whatever happens. */
  deadlineMs: number
}

export interface IdleWorkerResult {
  connections: number
  /** Publications received, over all connections. */
  received: number
  /** Connections that received nothing, and ones that received more than one publication. */
  missing: number
  duplicated: number
  closedByCode: Record<string, number>
}

export type ToIdleWorker = { type: 'config'; config: IdleWorkerConfig } | { type: 'report'; waitMs: number }
export type FromIdleWorker =
  | { type: 'booted' }
  | { type: 'ready'; connections: number }
  | { type: 'idle-result'; result: IdleWorkerResult }
  | { type: 'failed'; message: string }

function send(message: FromIdleWorker): void {
  process.send?.(message)
}

async function run(config: IdleWorkerConfig): Promise<void> {
  setTimeout(() => process.exit(4), config.deadlineMs).unref()
  const received = new Uint8Array(config.count)
  const closedByCode: Record<string, number> = {}
  let receivedTotal = 0
  let reached = 0
  let onProgress = () => {}
  const sockets: BenchConnection[] = await openAll(config.count, config.connectConcurrency, (index) => {
    const global = config.first + index
    return openIdleClient(
      config.target,
      {
        baseUrl: config.baseUrl,
        channel: config.channels[global % config.channels.length] ?? 'bench.connections.0',
        clientId: `bench-idle-${global}`,
        timeoutMs: IDLE_CONNECT_TIMEOUT_MS,
        localAddress: config.localAddress,
      },
      {
        onPublication() {
          receivedTotal += 1
          if (received[index] === 0) reached += 1
          received[index] = Math.min(255, (received[index] ?? 0) + 1)
          onProgress()
        },
        onClose(code) {
          closedByCode[code] = (closedByCode[code] ?? 0) + 1
        },
      },
    )
  })
  send({ type: 'ready', connections: sockets.length })

  process.on('message', (message: ToIdleWorker) => {
    if (message.type !== 'report') return
    const report = () => {
      onProgress = () => {}
      clearTimeout(timer)
      let duplicated = 0
      for (const count of received) if (count > 1) duplicated += 1
      send({
        type: 'idle-result',
        result: {
          connections: sockets.length,
          received: receivedTotal,
          missing: sockets.length - reached,
          duplicated,
          closedByCode,
        },
      })
    }
    // Every connection has its publication, or the wait is over: report what arrived.
    const timer = setTimeout(report, message.waitMs)
    onProgress = () => {
      if (reached === sockets.length) report()
    }
    onProgress()
  })
}

process.once('message', (message: ToIdleWorker) => {
  if (message.type !== 'config') return
  run(message.config).catch((error: unknown) => {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) })
    setTimeout(() => process.exit(1), 500)
  })
})
send({ type: 'booted' })
