import type { UpstreamStore } from '@parley/stores'
import type { Logger } from 'pino'
import type { ClusterBus } from '../bus/types.js'
import { GatewayError } from '../errors.js'
import { createSecretBox, type SecretBox, upstreamSecretKey } from '../security/secret-box.js'
import { createUpstreamWatch, type UpstreamWatch } from './upstream-watch.js'

/**
 * What the upstream features (external A2A agents, MCP servers) share: the store of registered upstreams, the
 * secret box their credentials are sealed with, and the watch that keeps every node's view current.
 */
export interface Upstreams {
  /** Throws `unavailable` until the gateway opened its storage. */
  store(): UpstreamStore
  /** Throws `unavailable` until the gateway read its keys at start. */
  box(): SecretBox
  readonly watch: UpstreamWatch
}

export interface UpstreamsHandle extends Upstreams {
  /** At start: the key (configured, or derived from the pairing secret) and the opened store. */
  open(store: UpstreamStore, pairingSecret: Uint8Array): void
  close(): void
}

export function createUpstreams(options: {
  secretKey: string | undefined
  reloadIntervalMs: number
  bus: ClusterBus
  logger: Logger
}): UpstreamsHandle {
  let store: UpstreamStore | undefined
  let box: SecretBox | undefined
  const requireStore = (): UpstreamStore => {
    if (store === undefined) throw new GatewayError('unavailable', 'the upstream store is not open yet')
    return store
  }
  return {
    store: requireStore,
    box() {
      if (box === undefined) throw new GatewayError('unavailable', 'the upstream secret box is not open yet')
      return box
    },
    watch: createUpstreamWatch({
      store: requireStore,
      bus: options.bus,
      reloadIntervalMs: options.reloadIntervalMs,
      logger: options.logger,
    }),
    open(opened, pairingSecret) {
      store = opened
      box = createSecretBox(upstreamSecretKey(options.secretKey, pairingSecret))
    },
    close() {
      store = undefined
    },
  }
}
