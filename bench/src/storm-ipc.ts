/**
 * The storm scenario's messages between the orchestrator (storm-run.ts) and its load processes
 * (load/storm-clients.ts): a share of the subscribers each, and one publisher.
 */

/** Which server the clients talk to: Parley through `@parley/client`, or Socket.IO through socket.io-client. */
export type StormTarget = 'parley' | 'socketio'

/** What is happening to the connections: set up, the gateway restart, the network cut, the final catch-up. */
export type StormPhase = 'setup' | 'restart' | 'cut' | 'final'
export const STORM_PHASES: readonly StormPhase[] = ['setup', 'restart', 'cut', 'final']

/** The publication's data: its number on its channel (1, 2, 3, … per channel). */
export interface StormPayload {
  n: number
}

export interface StormSubscribersConfig {
  role: 'subscribers'
  target: StormTarget
  /** Parley: the proxy's `ws://…/ws`; Socket.IO: the proxy's `http://…`. */
  url: string
  channels: string[]
  /** Global index of this process's first subscriber; subscriber i is on channel `i % channels.length`. */
  firstIndex: number
  count: number
  connectConcurrency: number
  deadlineMs: number
}

export interface StormPublisherConfig {
  role: 'publisher'
  target: StormTarget
  /** Straight to the server, not through the proxy. */
  url: string
  channels: string[]
  /** Publications per second per channel at most (each waits for the previous one's acknowledgement). */
  ratePerChannel: number
  deadlineMs: number
}

export type StormConfig = StormSubscribersConfig | StormPublisherConfig

/** Per subscriber process and phase: what its clients went through. */
export interface PhaseCounts {
  /** Connections lost (Parley: `disconnect` events; Socket.IO: `disconnect` events). */
  disconnects: number
  /** Subscriptions restored after a loss (Parley: `subscribed` with `wasRecovering`; Socket.IO: `connect` again). */
  resubscribes: number
  /** Of those, the ones that reported full recovery (Parley `recovered: true`; Socket.IO `socket.recovered`). */
  recovered: number
  /**
   * Clients that lost their connection in the phase, came back, and whose every restoration in the phase
   * reported full recovery (counted when the phase ends).
   */
  clientsRecovered: number
  /** Publications skipped: a number arrived while earlier ones on its channel never did. */
  gaps: number
  /** Publications that reached the application a second time (or out of order). */
  duplicates: number
}

export const emptyCounts = (): PhaseCounts => ({
  disconnects: 0,
  resubscribes: 0,
  recovered: 0,
  clientsRecovered: 0,
  gaps: 0,
  duplicates: 0,
})

export interface SubscribersResult {
  clients: number
  phases: Record<StormPhase, PhaseCounts>
  /** Publications handed to the application, over all clients. */
  received: number
  /** Clients short of the last catch-up targets they were given (the channels' last publications). */
  behind: number
  /** The first few problems in words (client, channel, numbers). */
  examples: string[]
}

export interface PublisherResult {
  /** Per channel: the last acknowledged number (every number up to it was acknowledged once). */
  acked: Record<string, number>
  /** Publishes sent again after an error or a lost reply (same number, same idempotency key). */
  retries: number
  /** Retries the server answered as duplicates of a stored publication (Parley's `duplicate: true`). */
  duplicateReplies: number
  /** Acknowledged offsets not above the channel's previous one (Parley): the stream's order broke. */
  offsetRegressions: number
  errorsByCode: Record<string, number>
}

export type ToStorm =
  | { type: 'config'; config: StormConfig }
  | { type: 'start' }
  /** Subscribers: from now on count into this phase; every client must lose its connection and come back. */
  | { type: 'phase'; phase: StormPhase }
  /** Subscribers: report `caught-up` once every client has at least these numbers (by channel). */
  | { type: 'catch-up'; targets: Record<string, number> }
  /** Publisher: report the acknowledged numbers so far. */
  | { type: 'snapshot' }
  /** Subscribers: say which clients are not back in the current phase, and in what state. */
  | { type: 'status' }
  /** Publisher: stop after the publications in flight; subscribers: send the result. */
  | { type: 'stop' }

export type FromStorm =
  | { type: 'booted' }
  | { type: 'ready'; clients: number }
  | { type: 'failed'; message: string }
  | { type: 'phase-set'; phase: StormPhase }
  /** Every client of the process lost its connection in the phase and has its subscription back (monotonic ms). */
  | { type: 'all-back'; phase: StormPhase; at: number }
  | { type: 'caught-up'; at: number }
  | { type: 'status'; notBack: number; behind: number; examples: string[] }
  | { type: 'snapshot'; acked: Record<string, number> }
  | { type: 'subscribers-result'; result: SubscribersResult }
  | { type: 'publisher-result'; result: PublisherResult }
