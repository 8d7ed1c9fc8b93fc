import { describe, vi } from 'vitest'
import { describeAgentKeyStoreBehaviour } from './agent-key-store.behaviour.js'
import { describeDashboardSessionStoreBehaviour } from './dashboard-session-store.behaviour.js'
import { describeDevicePairingStoreBehaviour } from './device-pairing-store.behaviour.js'
import { createMemoryAgentKeyStore } from './memory-agent-key-store.js'
import { createMemoryDashboardSessionStore } from './memory-dashboard-session-store.js'
import { createMemoryDevicePairingStore } from './memory-device-pairing-store.js'
import { createMemoryPairingStore } from './memory-pairing-store.js'
import { createMemorySessionBindingStore } from './memory-session-binding-store.js'
import { createMemoryTokenStore } from './memory-token-store.js'
import { describePairingStoreBehaviour, PAIRING_SECRET } from './pairing-store.behaviour.js'
import { describeSessionBindingStoreBehaviour } from './session-binding-store.behaviour.js'
import { describeTokenStoreBehaviour } from './token-store.behaviour.js'

// The token suite checks that secrets are compared with timingSafeEqual: make it a spy that still works.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>()
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) }
})

const memory =
  <Store>(create: () => Store) =>
  async () => ({ store: create(), teardown: async () => {} })

describe('memory identity stores', () => {
  describeTokenStoreBehaviour('memory', memory(createMemoryTokenStore))
  describePairingStoreBehaviour('memory', async () => ({
    createStore: (options) => createMemoryPairingStore({ secret: PAIRING_SECRET, ...options }),
    teardown: async () => {},
  }))
  describeDevicePairingStoreBehaviour('memory', memory(createMemoryDevicePairingStore))
  describeSessionBindingStoreBehaviour('memory', memory(createMemorySessionBindingStore))
  describeAgentKeyStoreBehaviour('memory', memory(createMemoryAgentKeyStore))
  describeDashboardSessionStoreBehaviour('memory', memory(createMemoryDashboardSessionStore))
})
