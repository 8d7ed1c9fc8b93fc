import { describe, vi } from 'vitest'
import { createMemoryTokenStore } from './memory-token-store.js'
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
})
