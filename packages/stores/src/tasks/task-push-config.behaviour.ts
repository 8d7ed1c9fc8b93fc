import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TaskNotFoundError, TaskPushConfigLimitError } from '../errors.js'
import { T0 } from '../identity/identity-fixture.js'
import { OWNER, type TaskStoreFixture, taskInput } from './task-store.fixture.js'
import type { TaskStore } from './types.js'

/** The push-config behaviour every TaskStore must show (run by `describeTaskStoreBehaviour`). */
export function describeTaskPushConfigBehaviour(label: string, setup: () => Promise<TaskStoreFixture>): void {
  describe(`TaskStore push configs: ${label}`, () => {
    let fixture: TaskStoreFixture
    let tasks: TaskStore

    beforeEach(async () => {
      fixture = await setup()
      tasks = fixture.createStore()
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('keeps push configs per task with their secrets hidden from every read but pushTargets', async () => {
      await tasks.create(taskInput('t-1'))
      const config = await tasks.setPushConfig(
        't-1',
        { owner: OWNER },
        {
          id: 'hook-1',
          url: 'https://hooks.example.com/a2a',
          token: 'tok-secret-1',
          authentication: { scheme: 'Bearer', credentials: 'cred-secret-1' },
          protocolVersion: '1.0',
          now: T0,
        },
      )
      expect(config).toEqual({
        id: 'hook-1',
        taskId: 't-1',
        url: 'https://hooks.example.com/a2a',
        hasToken: true,
        authentication: { scheme: 'Bearer', hasCredentials: true },
        protocolVersion: '1.0',
        createdAt: T0,
      })
      const generated = await tasks.setPushConfig(
        't-1',
        { owner: OWNER },
        { url: 'https://b.example/x', now: T0 + 1 },
      )
      expect(generated.id).toMatch(/^pnc_[A-Za-z0-9_-]{16}$/)
      expect(generated).toMatchObject({ hasToken: false, authentication: null, protocolVersion: null })

      const reads = [
        await tasks.getPushConfig('t-1', { owner: OWNER }, 'hook-1'),
        await tasks.listPushConfigs('t-1', { owner: OWNER }),
      ]
      expect(reads[0]).toEqual(config)
      expect(reads[1]).toEqual([config, generated])
      expect(JSON.stringify(reads)).not.toMatch(/secret/)

      expect(await tasks.pushTargets('t-1')).toEqual([
        {
          id: 'hook-1',
          taskId: 't-1',
          url: 'https://hooks.example.com/a2a',
          token: 'tok-secret-1',
          authentication: { scheme: 'Bearer', credentials: 'cred-secret-1' },
          protocolVersion: '1.0',
        },
        {
          id: generated.id,
          taskId: 't-1',
          url: 'https://b.example/x',
          token: null,
          authentication: null,
          protocolVersion: null,
        },
      ])

      // The same id replaces the config and keeps its place.
      await tasks.setPushConfig(
        't-1',
        { owner: OWNER },
        { id: 'hook-1', url: 'https://c.example/y', now: T0 + 9 },
      )
      const targets = await tasks.pushTargets('t-1')
      expect(targets.map((target) => [target.id, target.url, target.token])).toEqual([
        ['hook-1', 'https://c.example/y', null],
        [generated.id, 'https://b.example/x', null],
      ])

      expect(await tasks.deletePushConfig('t-1', { owner: OWNER }, 'hook-1')).toBe(true)
      expect(await tasks.deletePushConfig('t-1', { owner: OWNER }, 'hook-1')).toBe(false)
      expect(await tasks.getPushConfig('t-1', { owner: OWNER }, 'hook-1')).toBeUndefined()
      expect((await tasks.listPushConfigs('t-1', { owner: OWNER })).map((item) => item.id)).toEqual([
        generated.id,
      ])
      expect(await tasks.pushTargets('t-unknown')).toEqual([])
    })

    it("refuses push configs on another owner's or an unknown task, and past the per-task cap", async () => {
      await tasks.create(taskInput('t-1'))
      const other = { owner: 'caller-2' }
      const url = 'https://hooks.example.com/a2a'
      await expect(tasks.setPushConfig('t-1', other, { url })).rejects.toBeInstanceOf(TaskNotFoundError)
      await expect(tasks.setPushConfig('t-2', { owner: OWNER }, { url })).rejects.toBeInstanceOf(
        TaskNotFoundError,
      )
      await tasks.setPushConfig('t-1', { owner: OWNER }, { id: 'hook', url, token: 'tok' })
      await expect(tasks.getPushConfig('t-1', other, 'hook')).rejects.toBeInstanceOf(TaskNotFoundError)
      await expect(tasks.listPushConfigs('t-1', other)).rejects.toBeInstanceOf(TaskNotFoundError)
      await expect(tasks.deletePushConfig('t-1', other, 'hook')).rejects.toBeInstanceOf(TaskNotFoundError)
      expect(await tasks.listPushConfigs('t-1', { owner: OWNER })).toHaveLength(1)

      const capped = fixture.createStore({ maxPushConfigsPerTask: 2 })
      await capped.create(taskInput('t-cap'))
      await capped.setPushConfig('t-cap', { owner: OWNER }, { id: 'one', url })
      await capped.setPushConfig('t-cap', { owner: OWNER }, { id: 'two', url })
      await capped.setPushConfig('t-cap', { owner: OWNER }, { id: 'two', url: `${url}/2` })
      const third = await capped
        .setPushConfig('t-cap', { owner: OWNER }, { id: 'three', url })
        .catch((error: unknown) => error)
      expect(third).toBeInstanceOf(TaskPushConfigLimitError)
      expect(third).toMatchObject({ code: 'conflict', limit: 2 })
      expect(await capped.listPushConfigs('t-cap', { owner: OWNER })).toHaveLength(2)
    })
  })
}
