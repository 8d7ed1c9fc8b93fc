import {
  type AuthenticateFrame,
  type ClientFrame,
  errorBody,
  type HelloFrame,
  parseClientFrame,
  type TraceContext,
} from '@parley/protocol'
import type { GatewayConfig } from '../config.js'
import { errorBodyOf } from '../errors.js'
import type { Connection } from '../peers/connection.js'
import type { FrameTable } from '../peers/frame-registry.js'
import { acceptTraceContext } from '../tracing/accepted-trace-context.js'
import { createHandshakeHold } from './handshake-hold.js'

/** Frames a client may send ahead of its welcome (they wait for the handshake's outcome). */
const HANDSHAKE_HOLD_MAX_FRAMES = 16

export interface FrameDispatchOptions {
  config: Pick<GatewayConfig, 'maxPayload'>
  counters: { framesIn: number; invalidFrames: number }
  frames: FrameTable
  /** The handshake's frames, before the welcome. */
  handshake: {
    hello(connection: Connection, frame: HelloFrame): void
    answerChallenge(connection: Connection, frame: AuthenticateFrame): void
  }
  /** A welcomed connection sent a frame other than a heartbeat. */
  activity: (connection: Connection) => void
}

/**
 * Every inbound frame: counted, held while its connection authenticates, checked (text, size, schema), then
 * handed to the handshake (before the welcome) or to the one handler registered for its type. Whatever a
 * handler throws or rejects with is answered through the one error conversion.
 */
export function createFrameDispatch(options: FrameDispatchOptions) {
  const { config, counters, frames } = options
  // Bytes too: a client that is not authenticated yet must not park much memory here.
  const handshakeHold = createHandshakeHold<Connection>({
    maxFrames: HANDSHAKE_HOLD_MAX_FRAMES,
    maxBytes: config.maxPayload,
  })

  function receive(connection: Connection, data: unknown): void {
    connection.lastSeenAt = Date.now()
    connection.messagesIn += 1
    counters.framesIn += 1
    if (!handshakeHold.hold(connection, data)) handleFrame(connection, data)
  }

  /** Ends an authentication and handles the frames that arrived during it. */
  function authenticated(connection: Connection): void {
    connection.authenticating = false
    handshakeHold.release(connection, (data) => handleFrame(connection, data))
  }

  function handleFrame(connection: Connection, data: unknown): void {
    if (connection.state === 'closing' || connection.state === 'closed') return
    if (typeof data !== 'string') {
      counters.invalidFrames += 1
      connection.sendError(
        errorBody('invalid_frame', 'binary frames are not supported; send JSON text frames'),
      )
      return
    }
    const size = Buffer.byteLength(data)
    if (size > config.maxPayload) {
      counters.invalidFrames += 1
      const message = `frame of ${size} bytes exceeds maxPayload of ${config.maxPayload} bytes`
      connection.sendError(errorBody('payload_too_large', message))
      return
    }
    const parsed = parseClientFrame(data)
    if (!parsed.ok) {
      counters.invalidFrames += 1
      connection.sendError(parsed.error, parsed.id)
      return
    }
    const id = 'id' in parsed.frame ? parsed.frame.id : undefined
    let task: Promise<void> | undefined
    try {
      task = dispatch(connection, parsed.frame, size)
    } catch (error) {
      const body = errorBodyOf(error)
      if (body === undefined)
        connection.logger.error({ err: error, type: parsed.frame.type }, 'frame handler failed')
      connection.sendError(body ?? errorBody('internal', 'internal server error'), id)
      return
    }
    // A request that waits on a store fails when the store does: a dependency that is down, so the client
    // gets a retryable `unavailable` and the log gets the reason.
    task?.catch((error: unknown) => {
      const body = errorBodyOf(error)
      if (body === undefined) {
        connection.logger.error(
          { err: error, type: parsed.frame.type },
          'request failed in the delivery store',
        )
      }
      connection.sendError(
        body ?? errorBody('unavailable', 'the message store is unavailable; try again'),
        id,
      )
    })
  }

  function dispatch(connection: Connection, frame: ClientFrame, size: number): Promise<void> | undefined {
    if (connection.state === 'pairing') {
      // A device waiting for the operator may only keep the connection alive.
      if (frame.type === 'ping' || frame.type === 'pong') return handle(connection, frame, size)
      const message = 'this device is waiting for pairing approval; only ping and pong are accepted'
      connection.sendError(errorBody('invalid_state', message), 'id' in frame ? frame.id : undefined)
      return undefined
    }
    if (connection.state === 'handshaking') {
      if (frame.type === 'authenticate' && connection.challenge !== undefined) {
        options.handshake.answerChallenge(connection, frame)
      } else if (
        frame.type === 'hello' &&
        (connection.authenticating || connection.challenge !== undefined)
      ) {
        connection.sendError(errorBody('invalid_state', 'the handshake is already in progress'), frame.id)
      } else if (frame.type === 'hello') {
        options.handshake.hello(connection, frame)
      } else {
        const id = 'id' in frame ? frame.id : undefined
        connection.sendError(errorBody('handshake_required', 'send hello before any other frame'), id)
      }
      return undefined
    }
    if (frame.type !== 'ping' && frame.type !== 'pong') options.activity(connection)
    return handle(connection, frame, size)
  }

  function handle(connection: Connection, frame: ClientFrame, size: number): Promise<void> | undefined {
    const handler = frames.handlerOf(frame.type)
    if (handler === undefined) throw new Error(`no handler registered for frame type ${frame.type}`)
    acceptTraceContext(connection, frame as TraceContext)
    return handler(connection, frame, size)
  }

  return { receive, authenticated }
}
