import { describe } from 'vitest'
import { createMemoryPolicyStore } from './memory-policy-store.js'
import { describePolicyStoreBehaviour } from './policy-store.behaviour.js'
import type { PolicyStore, PolicyStoreOptions } from './types.js'

describe('memory policy store', () => {
  describePolicyStoreBehaviour('memory', async () => {
    // Memory stores share nothing, so "several instances on one storage" is one store under one options set.
    let shared: PolicyStore | undefined
    return {
      createStore: (options?: PolicyStoreOptions) => {
        if (options !== undefined) return createMemoryPolicyStore(options)
        shared ??= createMemoryPolicyStore()
        return shared
      },
      teardown: async () => {},
    }
  })
})
