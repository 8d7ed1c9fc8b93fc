import type { Authorize } from '../access/authorize.js'
import type { FrameRegistry } from '../peers/frame-registry.js'
import type { DeliveryEngine } from './delivery-engine.js'

/** `send` (scopes and policies first), `ack` and `nack`: the direct messages of the delivery engine. */
export function registerDeliveryFrames(
  frames: FrameRegistry,
  options: { deliveries: Pick<DeliveryEngine, 'send' | 'ack' | 'nack'>; authorize: Authorize },
): void {
  const { deliveries, authorize } = options
  frames.on('send', (connection, frame, size) => {
    const allowed = authorize(connection, 'send', frame.to)
    if (allowed.allowed) return deliveries.send(connection, frame, size)
    connection.sendError(allowed.error, frame.id)
    return undefined
  })
  frames.on('ack', (connection, frame) => deliveries.ack(connection, frame))
  frames.on('nack', (connection, frame) => deliveries.nack(connection, frame))
}
