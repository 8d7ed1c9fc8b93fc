import type { ClientFrame } from '@parley/protocol'
import type { Connection } from './connection.js'

export type FrameType = ClientFrame['type']
export type FrameOf<T extends FrameType> = Extract<ClientFrame, { type: T }>

/**
 * Handles one frame type of a welcomed connection. A handler that waits (for a store, the bus) returns its
 * promise: a rejection is answered with the one error conversion (`errorBodyOf`), as is a synchronous throw.
 */
export type FrameHandler<T extends FrameType> = (
  connection: Connection,
  frame: FrameOf<T>,
  /** Bytes of the frame as received. */
  size: number,
) => undefined | Promise<void>

/** Where the module that owns a frame type registers its handler (one per type). */
export interface FrameRegistry {
  on<T extends FrameType>(type: T, handler: FrameHandler<T>): void
}

/** The registry's table: one handler per frame type; a second registration of a type is a wiring bug. */
export function createFrameRegistry() {
  const handlers = new Map<FrameType, FrameHandler<FrameType>>()
  return {
    on<T extends FrameType>(type: T, handler: FrameHandler<T>): void {
      if (handlers.has(type)) throw new Error(`frame type ${type} has two handlers`)
      handlers.set(type, handler as unknown as FrameHandler<FrameType>)
    },
    handlerOf(type: FrameType): FrameHandler<FrameType> | undefined {
      return handlers.get(type)
    },
  }
}

export type FrameTable = ReturnType<typeof createFrameRegistry>
