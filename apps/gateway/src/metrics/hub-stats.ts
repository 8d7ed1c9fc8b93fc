/** The running totals of one node's connections, read by `/metrics` and the admin API. */
export interface HubStats {
  connections: number
  channels: number
  messagesPublished: number
  /** Frames handed to recipients by publications and broadcasts. */
  messagesDelivered: number
  broadcasts: number
  framesIn: number
  invalidFrames: number
  slowConsumers: number
  reaped: number
  /** Credentials refused (wrong, missing, or the provider failed). */
  authFailures: number
  /** Attempts refused by the failed-auth rate limit before any check. */
  authRateLimited: number
}
