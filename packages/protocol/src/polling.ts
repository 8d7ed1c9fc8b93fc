import { z } from 'zod'

/**
 * HTTP long-polling: the same frames as WebSocket, carried by four POST endpoints under `/poll`. A poll
 * session stands for one WebSocket connection. Its id is a secret held by the client and sent in the body,
 * never in the URL. Frames the gateway sends are numbered per session (`seq`, from 1). A poll returns the
 * frames after the cursor it acknowledges, and the gateway drops a frame only once a later poll has
 * acknowledged its number, so a response lost on the way costs nothing: the next poll gets the same frames
 * again.
 */

/** Opaque poll session id; it names the node that holds the session, so any node can relay to it. */
export const PollSessionId = z.string().min(1).max(128)

/** `POST /poll/open` (empty JSON body, or an `Authorization: Bearer` header like the WebSocket upgrade). */
export const PollOpenResponse = z.object({
  session: PollSessionId,
  /** How long a `recv` may hang when nothing is queued. */
  longPollTimeoutMs: z.number().int().positive(),
  /** The most frames one `recv` returns. */
  maxBatchSize: z.number().int().positive(),
})

/** `POST /poll/send`: client frames, each the JSON text of one frame exactly as a WebSocket text message. */
export const PollSendRequest = z.object({
  session: PollSessionId,
  frames: z.array(z.string()).min(1).max(1000),
})
export const PollSendResponse = z.object({ accepted: z.number().int().nonnegative() })

/** `POST /poll/recv`: acknowledges every frame up to `ack` (0 for none yet) and waits for later ones. */
export const PollRecvRequest = z.object({
  session: PollSessionId,
  ack: z.number().int().nonnegative(),
  /** Shorter hang than the gateway's `longPollTimeout`, in ms (0 returns at once). */
  waitMs: z.number().int().nonnegative().optional(),
})

/**
 * Frames `seq` from `ack + 1` on, at most `maxBatchSize`; `cursor` is the seq of the last one (or `ack`
 * when there are none). `closed` is set once the session has ended: the close code and reason a WebSocket
 * would have had; every frame before it has been returned by then.
 */
export const PollRecvResponse = z.object({
  cursor: z.number().int().nonnegative(),
  frames: z.array(z.record(z.string(), z.unknown())),
  closed: z.object({ code: z.number().int(), reason: z.string() }).optional(),
})

/** `POST /poll/close`: ends the session like a WebSocket close from the client. */
export const PollCloseRequest = z.object({ session: PollSessionId })
export const PollCloseResponse = z.object({ closed: z.literal(true) })

export type PollOpenResponse = z.infer<typeof PollOpenResponse>
export type PollSendRequest = z.infer<typeof PollSendRequest>
export type PollSendResponse = z.infer<typeof PollSendResponse>
export type PollRecvRequest = z.infer<typeof PollRecvRequest>
export type PollRecvResponse = z.infer<typeof PollRecvResponse>
export type PollCloseRequest = z.infer<typeof PollCloseRequest>
export type PollCloseResponse = z.infer<typeof PollCloseResponse>
