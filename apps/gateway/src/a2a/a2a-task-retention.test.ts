import { createMemoryTaskStore } from '@parley/stores'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createTaskRetention } from './a2a-task-retention.js'

describe('A2A task retention', () => {
  it('deletes finished tasks whose last change is older than the retention and keeps running and recent ones', async () => {
    const store = createMemoryTaskStore()
    const t0 = 1_000_000
    const base = { contextId: 'ctx', agentId: 'echo', owner: 'alice' }
    await store.create({ ...base, id: 'old-done', state: 'completed', now: t0 })
    await store.create({ ...base, id: 'old-running', state: 'working', now: t0 })
    await store.create({ ...base, id: 'recent-done', state: 'completed', now: t0 + 50_000 })
    let clock = t0 + 60_000
    const retention = createTaskRetention({
      tasks: () => store,
      retentionMs: 30_000,
      logger: pino({ level: 'silent' }),
      now: () => clock,
    })

    expect(await retention.sweep()).toBe(1)
    const scope = { owner: 'alice' }
    expect(await store.get('old-done', scope)).toBeUndefined()
    expect(await store.get('old-running', scope)).toMatchObject({ state: 'working' })
    expect(await store.get('recent-done', scope)).toMatchObject({ state: 'completed' })

    clock = t0 + 90_000
    expect(await retention.sweep()).toBe(1)
    expect(await store.get('recent-done', scope)).toBeUndefined()
  })
})
