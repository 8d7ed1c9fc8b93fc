import { A2aTaskInfo, A2aTaskList, HttpError } from '@parley/protocol'
import { createMemoryAuditLog, createMemoryTaskStore, type TaskStore } from '@parley/stores'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.js'
import { createGateway } from '../../src/create-gateway.js'
import { TEST_ADMIN_TOKEN } from '../support/test-gateway.js'

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }

function gatewayWith(tasks: TaskStore) {
  return createGateway({
    config: parseConfig({}),
    audit: createMemoryAuditLog(),
    taskStore: tasks,
    adminToken: TEST_ADMIN_TOKEN,
    logger: pino({ level: 'silent' }),
  }).app
}

/** A task of `billing` created by `planner`, worked on, with a text + data artifact streamed in two chunks. */
async function finishedTask(tasks: TaskStore, id = 'task-1', now = 1_700_000_000_000) {
  await tasks.create({
    id,
    contextId: 'ctx-1',
    agentId: 'billing',
    owner: 'planner',
    status: { state: 'TASK_STATE_SUBMITTED' },
    message: { messageId: 'm1', role: 'ROLE_USER', parts: [{ text: 'invoice 7' }] },
    now,
  })
  await tasks.appendEvent(id, {
    kind: 'artifact',
    payload: {
      taskId: id,
      artifact: { artifactId: 'a1', name: 'answer', parts: [{ text: 'total: 42' }] },
      append: false,
    },
    now: now + 1,
  })
  await tasks.appendEvent(id, {
    kind: 'artifact',
    payload: {
      taskId: id,
      artifact: { artifactId: 'a1', parts: [{ data: { currency: 'EUR' }, mediaType: 'application/json' }] },
      append: true,
    },
    now: now + 2,
  })
  await tasks.appendEvent(id, {
    kind: 'status',
    state: 'completed',
    payload: {
      taskId: id,
      status: {
        state: 'TASK_STATE_COMPLETED',
        message: { messageId: 'm2', role: 'ROLE_AGENT', parts: [{ text: '<b>done</b>' }] },
      },
    },
    now: now + 3,
  })
}

describe('GET /api/admin/a2a/tasks', () => {
  it('answers one task by id and agent with its state, status message and readable artifacts', async () => {
    const tasks = createMemoryTaskStore()
    await finishedTask(tasks)
    const response = await gatewayWith(tasks).request('/api/admin/a2a/tasks/task-1?agentId=billing', {
      headers: admin,
    })
    expect(response.status).toBe(200)
    const task = A2aTaskInfo.parse(await response.json())
    expect(task).toMatchObject({
      id: 'task-1',
      contextId: 'ctx-1',
      agentId: 'billing',
      owner: 'planner',
      state: 'completed',
      statusMessage: '<b>done</b>',
      events: 4,
      createdAt: new Date(1_700_000_000_000).toISOString(),
      updatedAt: new Date(1_700_000_000_003).toISOString(),
    })
    expect(task.artifacts).toEqual([
      {
        artifactId: 'a1',
        name: 'answer',
        description: null,
        parts: [
          { kind: 'text', text: 'total: 42', mediaType: null },
          { kind: 'data', text: '{"currency":"EUR"}', mediaType: 'application/json' },
        ],
      },
    ])
  })

  it('answers 404 for an unknown task and for a task of another agent, 400 without an agent', async () => {
    const tasks = createMemoryTaskStore()
    await finishedTask(tasks)
    const app = gatewayWith(tasks)
    for (const path of [
      '/api/admin/a2a/tasks/nope?agentId=billing',
      '/api/admin/a2a/tasks/task-1?agentId=other',
    ]) {
      const response = await app.request(path, { headers: admin })
      expect(response.status).toBe(404)
      expect(HttpError.parse(await response.json()).error.code).toBe('not_found')
    }
    const missing = await app.request('/api/admin/a2a/tasks/task-1', { headers: admin })
    expect(missing.status).toBe(400)
    expect(HttpError.parse(await missing.json()).error.message).toContain('agentId')
  })

  it('lists one caller’s tasks, newest change first, filtered by agent, with artifacts', async () => {
    const tasks = createMemoryTaskStore()
    await finishedTask(tasks, 'task-old', 1_000)
    await finishedTask(tasks, 'task-new', 2_000)
    await tasks.create({
      id: 'task-elsewhere',
      contextId: 'c',
      agentId: 'search',
      owner: 'planner',
      now: 3_000,
    })
    await tasks.create({
      id: 'task-stranger',
      contextId: 'c',
      agentId: 'billing',
      owner: 'someone',
      now: 4_000,
    })
    const app = gatewayWith(tasks)
    const response = await app.request('/api/admin/a2a/tasks?owner=planner&agentId=billing', {
      headers: admin,
    })
    expect(response.status).toBe(200)
    const list = A2aTaskList.parse(await response.json())
    expect(list.tasks.map((task) => task.id)).toEqual(['task-new', 'task-old'])
    expect(list.tasks[0]?.artifacts[0]?.parts).toHaveLength(2)
    expect(list.nextPageToken).toBeNull()

    const everyAgent = A2aTaskList.parse(
      await (await app.request('/api/admin/a2a/tasks?owner=planner', { headers: admin })).json(),
    )
    expect(everyAgent.tasks.map((task) => task.id)).toEqual(['task-elsewhere', 'task-new', 'task-old'])

    const paged = A2aTaskList.parse(
      await (await app.request('/api/admin/a2a/tasks?owner=planner&pageSize=2', { headers: admin })).json(),
    )
    expect(paged.tasks).toHaveLength(2)
    expect(paged.nextPageToken).not.toBeNull()
    const rest = A2aTaskList.parse(
      await (
        await app.request(
          `/api/admin/a2a/tasks?owner=planner&pageSize=2&pageToken=${encodeURIComponent(paged.nextPageToken ?? '')}`,
          { headers: admin },
        )
      ).json(),
    )
    expect(rest.tasks.map((task) => task.id)).toEqual(['task-old'])
  })

  it('refuses a list without an owner or with a bad page token (400), and any call without the admin token (401)', async () => {
    const app = gatewayWith(createMemoryTaskStore())
    expect((await app.request('/api/admin/a2a/tasks', { headers: admin })).status).toBe(400)
    expect(
      (await app.request('/api/admin/a2a/tasks?owner=planner&pageToken=garbage', { headers: admin })).status,
    ).toBe(400)
    expect((await app.request('/api/admin/a2a/tasks?owner=planner')).status).toBe(401)
    expect((await app.request('/api/admin/a2a/tasks/task-1?agentId=billing')).status).toBe(401)
  })

  it('shows a file part by its name, never its bytes, and cuts long text', async () => {
    const tasks = createMemoryTaskStore()
    await tasks.create({ id: 't', contextId: 'c', agentId: 'billing', owner: 'p', now: 1 })
    await tasks.appendEvent('t', {
      kind: 'artifact',
      payload: {
        artifact: {
          artifactId: 'f',
          parts: [
            { raw: 'c2VjcmV0IGJ5dGVz', filename: 'report.pdf', mediaType: 'application/pdf' },
            { text: 'x'.repeat(10_000) },
          ],
        },
      },
      now: 2,
    })
    const task = A2aTaskInfo.parse(
      await (
        await gatewayWith(tasks).request('/api/admin/a2a/tasks/t?agentId=billing', { headers: admin })
      ).json(),
    )
    expect(task.artifacts[0]?.parts[0]).toEqual({
      kind: 'file',
      text: 'report.pdf',
      mediaType: 'application/pdf',
    })
    expect(JSON.stringify(task)).not.toContain('c2VjcmV0IGJ5dGVz')
    expect(task.artifacts[0]?.parts[1]?.text).toHaveLength(4_000)
  })
})
