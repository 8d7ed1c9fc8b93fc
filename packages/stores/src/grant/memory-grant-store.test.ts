import { describe } from 'vitest'
import { describeGrantStoreBehaviour } from './grant-store.behaviour.js'
import { createMemoryGrantStore } from './memory-grant-store.js'
import type { GrantStore } from './types.js'

describe('memory grant store', () => {
  describeGrantStoreBehaviour('memory', async () => {
    // Memory stores share nothing, so "several instances on one storage" is one store.
    let shared: GrantStore | undefined
    return {
      createStore: () => {
        shared ??= createMemoryGrantStore()
        return shared
      },
      teardown: async () => {},
    }
  })
})
