import { describe } from 'vitest'
import { createMemoryStateStore } from './memory-state-store.js'
import { describeStateStoreBehaviour } from './state-store.behaviour.js'

describe('memory state store', () => {
  describeStateStoreBehaviour('memory', async () => ({
    createStore: (options) => createMemoryStateStore(options),
    teardown: async () => {},
  }))
})
