import { describe } from 'vitest'
import { createMemoryUpstreamStore } from './memory-upstream-store.js'
import type { UpstreamStore } from './types.js'
import { describeUpstreamStoreBehaviour } from './upstream-store.behaviour.js'

describe('memory upstream store', () => {
  describeUpstreamStoreBehaviour('memory', async () => {
    // Memory stores share nothing: "several stores on one storage" is one store.
    let shared: UpstreamStore | undefined
    return {
      createStore: () => {
        shared ??= createMemoryUpstreamStore()
        return shared
      },
      teardown: async () => {},
    }
  })
})
