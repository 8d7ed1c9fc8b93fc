import { describe } from 'vitest'
import { describeCaptureStoreBehaviour } from './capture-store.behaviour.js'
import { createMemoryCaptureStore } from './memory-capture-store.js'

describe('memory capture store', () => {
  describeCaptureStoreBehaviour('memory', async () => ({
    store: createMemoryCaptureStore(),
    teardown: async () => {},
  }))
})
