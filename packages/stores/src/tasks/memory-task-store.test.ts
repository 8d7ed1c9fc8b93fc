import { describe } from 'vitest'
import { createMemoryTaskStore } from './memory-task-store.js'
import { describeTaskStoreBehaviour } from './task-store.behaviour.js'

describe('memory task store', () => {
  describeTaskStoreBehaviour('memory', async () => ({
    createStore: (options) => createMemoryTaskStore(options),
    teardown: async () => {},
  }))
})
