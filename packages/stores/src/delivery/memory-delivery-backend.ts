import { createMemoryDeliveryStore } from './memory-delivery-store.js'
import { createMemoryHistoryStore } from './memory-history-store.js'
import type { DeliveryBackend, DeliveryBackendOptions } from './types.js'

/**
 * History and deliveries in process memory: for tests and single-node gateways that accept losing them
 * on restart (every channel then starts a new epoch, so subscribers learn that history is gone).
 */
export function createMemoryDeliveryBackend(options: DeliveryBackendOptions): DeliveryBackend {
  const deliveries = createMemoryDeliveryStore(options)
  const history = createMemoryHistoryStore(options, (publication) => deliveries.fanOut(publication))
  const { fanOut: _fanOut, ...deliveryStore } = deliveries
  return {
    name: 'memory',
    history,
    deliveries: deliveryStore,
    async close(): Promise<void> {},
  }
}
