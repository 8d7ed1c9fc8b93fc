import { InMemoryTaskStore, type TaskStore } from '@a2a-js/sdk/server'

/**
 * Where A2A tasks are kept: the SDK's `TaskStore` contract (save, load, list; scoped by the caller's
 * principal). The one place to switch to the durable `TaskStore` of `packages/stores` when it lands; until
 * then tasks live in this node's memory.
 */
export type A2aTaskStore = TaskStore

export function createA2aTaskStore(): A2aTaskStore {
  return new InMemoryTaskStore()
}
