import { type Task, TaskState } from '@a2a-js/sdk'
import { ServerCallContext } from '@a2a-js/sdk/server'
import { createMemoryTaskStore } from '@parley/stores'
import { describe, expect, it, vi } from 'vitest'
import type { Principal } from '../auth/auth-provider.js'
import { setA2aCall } from './a2a-executor.js'
import { createA2aTaskStore } from './a2a-task-store.js'

function callContext(): ServerCallContext {
  const context = new ServerCallContext({ user: { isAuthenticated: true, userName: 'alice' } })
  setA2aCall(context, {
    agentId: 'echo',
    principal: { id: 'alice' } as Principal,
    streaming: false,
    trace: {},
  })
  return context
}

function task(state: TaskState): Task {
  return {
    id: 'task-1',
    contextId: 'context-1',
    status: { state, message: undefined, timestamp: undefined },
    artifacts: [],
    history: [],
    metadata: {},
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

async function setup() {
  const durable = createMemoryTaskStore()
  const store = createA2aTaskStore(() => durable)
  await store.save(task(TaskState.TASK_STATE_WORKING), callContext())
  return { durable, store }
}

async function states(durable: ReturnType<typeof createMemoryTaskStore>): Promise<string[]> {
  const events = await durable.events('task-1', { owner: 'alice' })
  return events.filter((event) => event.kind === 'status').map((event) => String(event.state))
}

describe('the A2A task store over the durable one', () => {
  it('saves the event merged after a load without reading the task again', async () => {
    const { durable, store } = await setup()
    const get = vi.spyOn(durable, 'get')
    const history = vi.spyOn(durable, 'history')
    const context = callContext()
    const loaded = await store.load('task-1', context)
    expect(loaded?.status?.state).toBe(TaskState.TASK_STATE_WORKING)
    await store.save(task(TaskState.TASK_STATE_COMPLETED), context)
    expect(get).toHaveBeenCalledTimes(1)
    expect(history).toHaveBeenCalledTimes(1)
    expect(await states(durable)).toEqual(['completed'])
  })

  it('reads afresh when this node wrote the task between the load and the save (another call ended it)', async () => {
    const { durable, store } = await setup()
    const caller = callContext()
    await store.load('task-1', caller)
    // A cancel on this node ends the task first; the caller's own CANCELED is then not appended again.
    await store.save(task(TaskState.TASK_STATE_CANCELED), callContext())
    await store.save(task(TaskState.TASK_STATE_CANCELED), caller)
    expect(await states(durable)).toEqual(['canceled'])
  })

  it('reads afresh when the save comes in a later turn (another node may have written meanwhile)', async () => {
    const { durable, store } = await setup()
    const caller = callContext()
    await store.load('task-1', caller)
    // Another node's write: straight to the shared durable store, unseen by this node's sequence numbers.
    await durable.appendEvent('task-1', {
      kind: 'status',
      state: 'canceled',
      payload: { taskId: 'task-1', contextId: 'context-1', status: { state: 'TASK_STATE_CANCELED' } },
    })
    await nextTurn()
    const get = vi.spyOn(durable, 'get')
    await store.save(task(TaskState.TASK_STATE_CANCELED), caller)
    expect(get).toHaveBeenCalledTimes(1)
    expect(await states(durable)).toEqual(['canceled'])
  })
})
