import { monotonicMs } from './clock.js'
import type { BenchPayload } from './ipc.js'
import { type BenchConnection, clientFor } from './load/clients.js'
import type { TargetName } from './options.js'

const CONNECT_TIMEOUT_MS = 15_000
/** How long a publication on node A may take to show up on node B before the deployment counts as broken. */
const PROBE_TIMEOUT_MS = 15_000
const PROBE_INTERVAL_MS = 250

/**
 * Checks that a publication on the publishing node reaches a subscriber on the other node before any load
 * runs: one subscriber on `subscribeUrl`, one publisher on `publishUrl`, a publication every 250 ms until
 * one arrives. Without it a deployment whose nodes do not relay (e.g. a gateway built without the Redis
 * bus) would only show up as a stalled publisher. The subscriber is returned still open: it keeps the
 * channel subscribed on that node until the load's subscribers are in place, then the caller closes it.
 */
export async function probeCrossNode(options: {
  target: TargetName
  publishUrl: string
  subscribeUrl: string
  channel: string
  /** Appended to the error, e.g. what the target needs for cross-node delivery. */
  hint: string
}): Promise<BenchConnection> {
  const client = clientFor(options.target)
  let received: () => void = () => {}
  const arrived = new Promise<void>((resolve) => {
    received = resolve
  })
  let closedWith: number | undefined
  const subscriber = await client.subscriber(
    {
      baseUrl: options.subscribeUrl,
      channel: options.channel,
      clientId: 'bench-probe-subscriber',
      timeoutMs: CONNECT_TIMEOUT_MS,
    },
    {
      onPayload: () => received(),
      onClose: (code) => {
        closedWith = code
      },
    },
  )
  let publisher: BenchConnection | undefined
  let timer: NodeJS.Timeout | undefined
  let deadline: NodeJS.Timeout | undefined
  try {
    let error: string | undefined
    const connection = await client.publisher(
      {
        baseUrl: options.publishUrl,
        channel: options.channel,
        clientId: 'bench-probe-publisher',
        timeoutMs: CONNECT_TIMEOUT_MS,
      },
      {
        onAck: () => {},
        onError: (_seq, code) => {
          error = code
        },
        onClose: () => {},
      },
    )
    publisher = connection
    // Sequence number 0 is never part of a run's load.
    const publish = () =>
      connection.publish({ seq: 0, t: monotonicMs(), m: 0, pad: '' } satisfies BenchPayload)
    publish()
    timer = setInterval(publish, PROBE_INTERVAL_MS)
    const outcome = await Promise.race([
      arrived.then(() => 'arrived' as const),
      new Promise<'timeout'>((resolve) => {
        deadline = setTimeout(() => resolve('timeout'), PROBE_TIMEOUT_MS)
      }),
    ])
    if (outcome === 'timeout') {
      const detail = [
        error === undefined ? '' : `publish answered ${error}`,
        closedWith === undefined ? '' : `the subscriber was closed with ${closedWith}`,
      ].filter((part) => part.length > 0)
      throw new Error(
        `a publication on node A did not reach a subscriber on node B within ${PROBE_TIMEOUT_MS / 1000} s` +
          `${detail.length > 0 ? ` (${detail.join('; ')})` : ''}: ${options.hint}`,
      )
    }
    return subscriber
  } catch (error) {
    subscriber.close()
    throw error
  } finally {
    clearInterval(timer)
    clearTimeout(deadline)
    publisher?.close()
  }
}
