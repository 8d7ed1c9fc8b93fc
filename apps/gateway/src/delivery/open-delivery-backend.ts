import {
  createMemoryDeliveryBackend,
  createPostgresDeliveryBackend,
  type DeliveryBackend,
  type DeliveryBackendOptions,
  type ParleyDatabase,
} from '@parley/stores'
import { createRetention } from '../channels/history-retention.js'
import { ConfigError, type GatewayConfig } from '../config.js'
import { newId } from '../ids.js'

/** The store options the config implies: retention per channel, dedupe window and message TTL. */
export function deliveryBackendOptions(config: GatewayConfig): DeliveryBackendOptions {
  return {
    retention: createRetention(config.history),
    dedupeWindowMs: config.delivery.dedupeWindow * 1000,
    messageTtlMs: config.delivery.messageTtl * 1000,
    newDeliveryId: () => newId('dlv'),
  }
}

/** Opens the backend `delivery.storeBackend` names; `postgres` uses the gateway's database. */
export function openDeliveryBackend(
  config: GatewayConfig,
  database: () => ParleyDatabase | undefined,
): DeliveryBackend {
  const options = deliveryBackendOptions(config)
  if (config.delivery.storeBackend === 'memory') return createMemoryDeliveryBackend(options)
  const opened = database()
  if (opened === undefined) throw new ConfigError('delivery.storeBackend postgres needs a database')
  return createPostgresDeliveryBackend(opened, options)
}
