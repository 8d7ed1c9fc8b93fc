import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  InvalidCursorError,
  InvalidTaskError,
  TaskExistsError,
  TaskNotFoundError,
  TaskPayloadTooLargeError,
  TaskTerminalError,
} from '../errors.js'
import { HOSTILE_NAMES, HOUR, MINUTE, T0 } from '../identity/identity-fixture.js'
import { describeTaskPushConfigBehaviour } from './task-push-config.behaviour.js'
import {
  AGENT,
  artifactEvent,
  concurrentAppends,
  messageEvent,
  OWNER,
  statusEvent,
  type TaskStoreFixture,
  taskInput,
} from './task-store.fixture.js'
import type { TaskStore } from './types.js'

/** The behaviour every TaskStore must show. */
export function describeTaskStoreBehaviour(label: string, setup: () => Promise<TaskStoreFixture>): void {
  describe(`TaskStore behaviour: ${label}`, () => {
    let fixture: TaskStoreFixture
    let tasks: TaskStore

    beforeEach(async () => {
      fixture = await setup()
      tasks = fixture.createStore()
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('creates a task that its owner and its agent can read, and that reads as absent for anyone else', async () => {
      const created = await tasks.create(taskInput('t-1', { metadata: { topic: 'x' } }))
      expect(created).toEqual({
        id: 't-1',
        contextId: 'ctx-1',
        agentId: AGENT,
        owner: OWNER,
        state: 'submitted',
        status: null,
        artifacts: [],
        metadata: { topic: 'x' },
        lastSeq: 0,
        createdAt: T0,
        updatedAt: T0,
      })
      expect(await tasks.get('t-1', { owner: OWNER })).toEqual(created)
      expect(await tasks.get('t-1', { agentId: AGENT })).toEqual(created)
      expect(await tasks.get('t-1', { owner: 'caller-2' })).toBeUndefined()
      expect(await tasks.get('t-1', { agentId: 'agent-2' })).toBeUndefined()
      expect(await tasks.get('t-unknown', { owner: OWNER })).toBeUndefined()
      await expect(tasks.events('t-1', { owner: 'caller-2' })).rejects.toBeInstanceOf(TaskNotFoundError)
      await expect(tasks.history('t-1', { owner: 'caller-2' })).rejects.toBeInstanceOf(TaskNotFoundError)
    })

    it('stores the message that started a task as event 1 and refuses a second task with the same id', async () => {
      const message = { role: 'user', messageId: 'm-1', parts: [{ kind: 'text', text: 'hello' }] }
      const status = { state: 'submitted', timestamp: new Date(T0).toISOString() }
      const created = await tasks.create(taskInput('t-1', { message, status }))
      expect(created).toMatchObject({ lastSeq: 1, status })
      expect(await tasks.events('t-1', { owner: OWNER })).toEqual([
        { taskId: 't-1', seq: 1, kind: 'message', state: null, payload: message, createdAt: T0 },
      ])
      expect(await tasks.history('t-1', { owner: OWNER })).toEqual([message])
      const again = await tasks
        .create(taskInput('t-1', { owner: 'caller-2' }))
        .catch((error: unknown) => error)
      expect(again).toBeInstanceOf(TaskExistsError)
      expect(again).toMatchObject({ code: 'conflict', taskId: 't-1' })
      expect(await tasks.get('t-1', { owner: OWNER })).toEqual(created)
    })

    it('numbers appended events 1, 2, 3 and moves the state, status and updatedAt with each', async () => {
      await tasks.create(taskInput('t-1'))
      const working = await tasks.appendEvent('t-1', statusEvent('working', T0 + 1))
      expect(working.event).toMatchObject({ seq: 1, kind: 'status', state: 'working', createdAt: T0 + 1 })
      expect(working.task).toMatchObject({ state: 'working', lastSeq: 1, updatedAt: T0 + 1 })
      const reply = await tasks.appendEvent('t-1', messageEvent('more', T0 + 2))
      expect(reply.event).toMatchObject({ seq: 2, kind: 'message', state: null })
      expect(reply.task).toMatchObject({ state: 'working', lastSeq: 2 })
      const done = await tasks.appendEvent('t-1', statusEvent('completed', T0 + 3, 'done'))
      expect(done.task).toMatchObject({
        state: 'completed',
        lastSeq: 3,
        updatedAt: T0 + 3,
        status: {
          state: 'completed',
          message: { role: 'agent', messageId: 's-done', parts: [{ kind: 'text', text: 'done' }] },
          timestamp: new Date(T0 + 3).toISOString(),
        },
      })
      expect(await tasks.get('t-1', { owner: OWNER })).toEqual({ ...done.task, artifacts: [] })
      const events = await tasks.events('t-1', { owner: OWNER })
      expect(events.map((event) => [event.seq, event.kind, event.state])).toEqual([
        [1, 'status', 'working'],
        [2, 'message', null],
        [3, 'status', 'completed'],
      ])
      expect(events[2]?.payload).toEqual(
        (statusEvent('completed', T0 + 3, 'done') as { payload: unknown }).payload,
      )
    })

    it('keeps updatedAt from going back when an event carries an older time', async () => {
      await tasks.create(taskInput('t-1', { now: T0 + 10 }))
      const appended = await tasks.appendEvent('t-1', statusEvent('working', T0 + 5))
      expect(appended.event.createdAt).toBe(T0 + 5)
      expect(appended.task.updatedAt).toBe(T0 + 10)
    })

    it('pages events after a sequence number without gaps or repeats', async () => {
      await tasks.create(taskInput('t-1'))
      for (let index = 0; index < 25; index++) await tasks.appendEvent('t-1', messageEvent(`m${index}`))
      const seen: number[] = []
      let afterSeq = 0
      for (;;) {
        const page = await tasks.events('t-1', { agentId: AGENT }, { afterSeq, limit: 7 })
        if (page.length === 0) break
        seen.push(...page.map((event) => event.seq))
        afterSeq = page.at(-1)?.seq ?? afterSeq
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, index) => index + 1))
      expect(
        (await tasks.events('t-1', { owner: OWNER }, { afterSeq: 22 })).map((event) => event.seq),
      ).toEqual([23, 24, 25])
      expect(await tasks.events('t-1', { owner: OWNER }, { afterSeq: 25 })).toEqual([])
      expect(await tasks.events('t-1', { owner: OWNER }, { afterSeq: 99 })).toEqual([])
    })

    it('resumes a stream cut after event 37 of 100 with events 38 to 100, each once, while appends go on', async () => {
      await tasks.create(taskInput('t-1'))
      for (let index = 1; index <= 37; index++) await tasks.appendEvent('t-1', messageEvent(`m${index}`))
      const beforeCut = await tasks.events('t-1', { owner: OWNER })
      expect(beforeCut.at(-1)?.seq).toBe(37)

      const writer = (async () => {
        for (let index = 38; index <= 100; index++) await tasks.appendEvent('t-1', messageEvent(`m${index}`))
      })()
      const resumed: number[] = []
      let afterSeq = 37
      // Reads race the writer; each read awaits the store, so the writer moves on in between.
      for (let reads = 0; afterSeq < 100 && reads < 10_000; reads++) {
        const page = await tasks.events('t-1', { owner: OWNER }, { afterSeq, limit: 10 })
        resumed.push(...page.map((event) => event.seq))
        afterSeq = page.at(-1)?.seq ?? afterSeq
      }
      await writer
      expect(resumed).toEqual(Array.from({ length: 63 }, (_, index) => index + 38))
      const payloads = (await tasks.events('t-1', { owner: OWNER }, { afterSeq: 37 })).map(
        (event) => (event.payload as { messageId: string }).messageId,
      )
      expect(payloads).toEqual(Array.from({ length: 63 }, (_, index) => `m${index + 38}`))
    })

    it('gives 50 concurrent appends to one task the sequence numbers 1 to 50, each once, in log order', async () => {
      await tasks.create(taskInput('t-1'))
      const seqs = await concurrentAppends([tasks], 't-1', 50)
      expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, index) => index + 1))
      const events = await tasks.events('t-1', { owner: OWNER })
      expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 50 }, (_, index) => index + 1))
      const task = await tasks.get('t-1', { owner: OWNER })
      expect(task?.lastSeq).toBe(50)
      // No artifact was lost by a racing write of the snapshot.
      expect(task?.artifacts).toHaveLength(50)
    })

    it('refuses any event after a terminal one, also when the terminal event races other appends', async () => {
      await expect(tasks.appendEvent('t-unknown', messageEvent('x'))).rejects.toBeInstanceOf(
        TaskNotFoundError,
      )
      await tasks.create(taskInput('rejected', { state: 'rejected' }))
      const refused = await tasks.appendEvent('rejected', messageEvent('x')).catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(TaskTerminalError)
      expect(refused).toMatchObject({ code: 'conflict', taskId: 'rejected', state: 'rejected' })

      await tasks.create(taskInput('t-1'))
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, index) =>
          tasks.appendEvent('t-1', index === 7 ? statusEvent('canceled') : messageEvent(`m${index}`)),
        ),
      )
      const accepted = outcomes.filter((outcome) => outcome.status === 'fulfilled')
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(TaskTerminalError)
      }
      const events = await tasks.events('t-1', { owner: OWNER })
      expect(events).toHaveLength(accepted.length)
      expect(events.at(-1)).toMatchObject({ kind: 'status', state: 'canceled', seq: accepted.length })
      expect(await tasks.get('t-1', { owner: OWNER })).toMatchObject({
        state: 'canceled',
        lastSeq: accepted.length,
      })
    })

    it('merges artifact events into the snapshot as the SDK does: new ids added, same id replaced, append adds parts', async () => {
      await tasks.create(taskInput('t-1', { metadata: { topic: 'x' } }))
      await tasks.appendEvent('t-1', artifactEvent('a', [{ kind: 'text', text: 'one' }]))
      await tasks.appendEvent('t-1', artifactEvent('b', [{ kind: 'text', text: 'other' }]))
      await tasks.appendEvent('t-1', {
        kind: 'artifact',
        payload: {
          artifact: {
            artifactId: 'a',
            name: 'answer',
            parts: [{ kind: 'text', text: 'two' }],
            metadata: { page: 2 },
          },
          append: true,
          metadata: { progress: 0.5 },
        },
      })
      let task = await tasks.get('t-1', { owner: OWNER })
      expect(task?.artifacts).toEqual([
        {
          artifactId: 'a',
          name: 'answer',
          parts: [
            { kind: 'text', text: 'one' },
            { kind: 'text', text: 'two' },
          ],
          metadata: { page: 2 },
        },
        { artifactId: 'b', parts: [{ kind: 'text', text: 'other' }] },
      ])
      await tasks.appendEvent('t-1', artifactEvent('b', [{ kind: 'text', text: 'replaced' }]))
      await tasks.appendEvent('t-1', artifactEvent('c', [{ kind: 'data', data: { n: 1 } }], true))
      task = await tasks.get('t-1', { owner: OWNER })
      expect(task?.artifacts.map((artifact) => (artifact as { artifactId: string }).artifactId)).toEqual([
        'a',
        'b',
        'c',
      ])
      expect(task?.artifacts[1]).toEqual({ artifactId: 'b', parts: [{ kind: 'text', text: 'replaced' }] })
      expect(task?.state).toBe('submitted')
      // Event metadata is merged into the task's, as the SDK's ResultManager does.
      expect(task?.metadata).toEqual({ topic: 'x', progress: 0.5 })
      await tasks.appendEvent('t-1', {
        kind: 'status',
        state: 'working',
        payload: { status: { state: 'working' }, metadata: { progress: 0.9 } },
      })
      expect((await tasks.get('t-1', { owner: OWNER }))?.metadata).toEqual({ topic: 'x', progress: 0.9 })
    })

    it('applies 300 chunks appended without waiting in call order, folds them into one artifact on read', async () => {
      await tasks.create(taskInput('t-1'))
      // As a stream's chunks arrive: each append is started before the previous one is done.
      const appended = await Promise.all(
        Array.from({ length: 300 }, (_, index) =>
          tasks.appendEvent('t-1', artifactEvent('stream', [`c${index}`], index > 0)),
        ),
      )
      expect(appended.map((result) => result.event.seq)).toEqual(
        Array.from({ length: 300 }, (_, index) => index + 1),
      )
      expect(appended[299]?.task).toMatchObject({ lastSeq: 300 })
      expect(appended[0]?.task).not.toHaveProperty('artifacts')
      await tasks.appendEvent('t-1', statusEvent('completed'))
      const parts = Array.from({ length: 300 }, (_, index) => `c${index}`)
      expect((await tasks.get('t-1', { owner: OWNER }))?.artifacts).toEqual([{ artifactId: 'stream', parts }])
      const listed = await tasks.list({ owner: OWNER, includeArtifacts: true })
      expect(listed.tasks[0]?.artifacts).toEqual([{ artifactId: 'stream', parts }])
    })

    it('answers history with the messages and status messages, newest last, bounded by historyLength', async () => {
      await tasks.create(taskInput('t-1', { message: { messageId: 'm0' } }))
      await tasks.appendEvent('t-1', statusEvent('input-required', T0, 'which one?'))
      for (let index = 1; index <= 4; index++) {
        await tasks.appendEvent('t-1', { kind: 'message', payload: { messageId: `m${index}` } })
      }
      await tasks.appendEvent('t-1', artifactEvent('a', []))
      const ids = async (length?: number) =>
        (await tasks.history('t-1', { owner: OWNER }, length)).map(
          (message) => (message as { messageId: string }).messageId,
        )
      await tasks.appendEvent('t-1', statusEvent('working'))
      expect(await ids()).toEqual(['m0', 's-which one?', 'm1', 'm2', 'm3', 'm4'])
      expect(await ids(2)).toEqual(['m3', 'm4'])
      expect(await ids(5)).toEqual(['s-which one?', 'm1', 'm2', 'm3', 'm4'])
      expect(await ids(0)).toEqual([])
      expect(await ids(50)).toHaveLength(6)
    })

    it("lists only the owner's tasks, newest change first, filtered, in pages that cover each task once", async () => {
      for (let index = 0; index < 12; index++) {
        await tasks.create(
          taskInput(`t-${String(index).padStart(2, '0')}`, {
            // Pairs of tasks share a time, so the id breaks the tie.
            now: T0 + Math.floor(index / 2) * MINUTE,
            contextId: index % 3 === 0 ? 'ctx-a' : 'ctx-b',
            agentId: index % 2 === 0 ? 'agent-even' : 'agent-odd',
          }),
        )
      }
      await tasks.create(taskInput('other-owner', { owner: 'caller-2', now: T0 + HOUR }))
      await tasks.appendEvent('t-03', statusEvent('completed', T0 + 30 * MINUTE))
      const order = [
        't-03',
        't-11',
        't-10',
        't-09',
        't-08',
        't-07',
        't-06',
        't-05',
        't-04',
        't-02',
        't-01',
        't-00',
      ]
      const all = await tasks.list({ owner: OWNER, pageSize: 100 })
      expect(all.tasks.map((task) => task.id)).toEqual(order)
      expect(all).toMatchObject({ total: 12, nextPageToken: null })

      const paged: string[] = []
      let pageToken: string | undefined
      do {
        const page = await tasks.list({ owner: OWNER, pageSize: 5, pageToken })
        expect(page.total).toBe(12)
        paged.push(...page.tasks.map((task) => task.id))
        pageToken = page.nextPageToken ?? undefined
      } while (pageToken !== undefined)
      expect(paged).toEqual(order)

      const ids = async (query: Partial<Parameters<TaskStore['list']>[0]>) =>
        (await tasks.list({ owner: OWNER, ...query })).tasks.map((task) => task.id)
      expect(await ids({ contextId: 'ctx-a' })).toEqual(['t-03', 't-09', 't-06', 't-00'])
      expect(await ids({ agentId: 'agent-odd', state: 'submitted' })).toEqual([
        't-11',
        't-09',
        't-07',
        't-05',
        't-01',
      ])
      expect(await ids({ state: 'completed' })).toEqual(['t-03'])
      expect(await ids({ updatedAfter: T0 + 4 * MINUTE })).toEqual(['t-03', 't-11', 't-10'])
      expect(await tasks.list({ owner: 'nobody' })).toEqual({ tasks: [], nextPageToken: null, total: 0 })
      const filtered = await tasks.list({ owner: OWNER, agentId: 'agent-even', pageSize: 2 })
      expect(filtered.total).toBe(6)
      const next = await tasks.list({
        owner: OWNER,
        agentId: 'agent-even',
        pageSize: 2,
        pageToken: filtered.nextPageToken ?? undefined,
      })
      expect(next.tasks.map((task) => task.id)).toEqual(['t-06', 't-04'])
    })

    it('lists tasks without their artifacts unless includeArtifacts is set, and refuses a forged page token', async () => {
      await tasks.create(taskInput('t-1'))
      await tasks.appendEvent('t-1', artifactEvent('a', ['x']))
      expect((await tasks.list({ owner: OWNER })).tasks[0]).toMatchObject({
        id: 't-1',
        artifacts: [],
        lastSeq: 1,
      })
      expect((await tasks.list({ owner: OWNER, includeArtifacts: true })).tasks[0]?.artifacts).toEqual([
        { artifactId: 'a', parts: ['x'] },
      ])
      for (const pageToken of [
        'nope!',
        'W10',
        Buffer.from('[1,2]').toString('base64url'),
        'x'.repeat(5_000),
      ]) {
        await expect(tasks.list({ owner: OWNER, pageToken })).rejects.toBeInstanceOf(InvalidCursorError)
      }
    })

    it('deletes terminal tasks older than the cutoff with their events and push configs, and keeps the rest', async () => {
      const url = 'https://hooks.example.com/a2a'
      await tasks.create(taskInput('old-done', { now: T0 }))
      await tasks.appendEvent('old-done', statusEvent('completed', T0 + 1))
      await tasks.setPushConfig('old-done', { owner: OWNER }, { url, token: 'tok' })
      await tasks.create(taskInput('old-working', { now: T0 }))
      await tasks.appendEvent('old-working', statusEvent('working', T0 + 1))
      await tasks.create(taskInput('old-failed', { now: T0, state: 'failed' }))
      await tasks.create(taskInput('new-done', { now: T0 + HOUR, state: 'completed' }))
      expect(await tasks.deleteExpired(T0 + MINUTE)).toBe(2)
      expect(await tasks.get('old-done', { owner: OWNER })).toBeUndefined()
      expect(await tasks.get('old-failed', { owner: OWNER })).toBeUndefined()
      expect(await tasks.pushTargets('old-done')).toEqual([])
      await expect(tasks.events('old-done', { owner: OWNER })).rejects.toBeInstanceOf(TaskNotFoundError)
      expect((await tasks.list({ owner: OWNER })).tasks.map((task) => task.id)).toEqual([
        'new-done',
        'old-working',
      ])
      expect(await tasks.deleteExpired(T0 + MINUTE)).toBe(0)
      // A new task may take a deleted id, and its log starts again at 1.
      await tasks.create(taskInput('old-done', { now: T0 + HOUR }))
      expect((await tasks.appendEvent('old-done', messageEvent('again'))).event.seq).toBe(1)
      expect(await tasks.pushTargets('old-done')).toEqual([])
    })

    it('lists unfinished tasks of every owner not changed since a cutoff, oldest first, for the gateway to end', async () => {
      await tasks.create(taskInput('b-working', { now: T0 }))
      await tasks.appendEvent('b-working', statusEvent('working', T0 + 2))
      await tasks.create(taskInput('a-submitted', { now: T0 + 2, owner: 'caller-2' }))
      await tasks.create(taskInput('input', { now: T0 + 1 }))
      await tasks.appendEvent('input', statusEvent('input-required', T0 + 1))
      await tasks.create(taskInput('done', { now: T0, state: 'completed' }))
      await tasks.create(taskInput('fresh', { now: T0 + HOUR }))
      await tasks.create(taskInput('ended', { now: T0 }))
      await tasks.appendEvent('ended', statusEvent('failed', T0 + 1))
      const ids = async (query: { updatedBefore: number; limit?: number }) =>
        (await tasks.listStale(query)).map((task) => task.id)
      expect(await ids({ updatedBefore: T0 + MINUTE })).toEqual(['input', 'a-submitted', 'b-working'])
      expect(await ids({ updatedBefore: T0 + MINUTE, limit: 2 })).toEqual(['input', 'a-submitted'])
      expect(await ids({ updatedBefore: T0 + 2 })).toEqual(['input'])
      expect((await tasks.listStale({ updatedBefore: T0 + MINUTE }))[0]).toMatchObject({
        id: 'input',
        owner: OWNER,
        state: 'input-required',
      })
      // Ending a stale task takes it off the list.
      await tasks.appendEvent('input', statusEvent('failed', T0 + 3))
      expect(await ids({ updatedBefore: T0 + MINUTE })).toEqual(['a-submitted', 'b-working'])
      await expect(tasks.listStale({ updatedBefore: T0, limit: 0 })).rejects.toMatchObject({
        name: 'InvalidTaskError',
        field: 'limit',
      })
    })

    it('stores text that looks like SQL or HTML verbatim, in ids, owners and payloads', async () => {
      for (const [index, text] of [...HOSTILE_NAMES, "x'); DROP TABLE a2a_tasks;--"].entries()) {
        const payload = { text, nul: 'a\u0000b', list: [text, 1.5, null, true] }
        const created = await tasks.create({
          id: `${text}-${index}`,
          contextId: text,
          agentId: text,
          owner: text,
          message: payload,
          metadata: { [text]: text },
          now: T0,
        })
        expect(await tasks.get(created.id, { owner: text })).toEqual(created)
        expect(created.metadata).toEqual({ [text]: text })
        expect(await tasks.history(created.id, { agentId: text })).toEqual([payload])
        expect((await tasks.list({ owner: text, contextId: text })).tasks.map((task) => task.id)).toEqual([
          created.id,
        ])
      }
    })

    it('refuses bad input with typed errors naming the field, and writes nothing', async () => {
      await tasks.create(taskInput('t-1'))
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      const invalid: [string, () => Promise<unknown>][] = [
        ['id', () => tasks.create(taskInput(''))],
        ['id', () => tasks.create(taskInput('a\u0000b'))],
        ['id', () => tasks.create(taskInput('x'.repeat(513)))],
        ['owner', () => tasks.create(taskInput('t-2', { owner: 'lone \uD800' }))],
        ['state', () => tasks.create(taskInput('t-2', { state: 'done' as never }))],
        ['metadata', () => tasks.create(taskInput('t-2', { metadata: cyclic }))],
        ['message', () => tasks.create(taskInput('t-2', { message: 10n }))],
        ['kind', () => tasks.appendEvent('t-1', { kind: 'other', payload: {} } as never)],
        [
          'state',
          () =>
            tasks.appendEvent('t-1', { kind: 'status', state: 'TASK_STATE_WORKING', payload: {} } as never),
        ],
        [
          'payload',
          () => tasks.appendEvent('t-1', { kind: 'status', state: 'working', payload: { state: 'working' } }),
        ],
        [
          'payload',
          () => tasks.appendEvent('t-1', { kind: 'artifact', payload: { artifact: { parts: [] } } }),
        ],
        ['payload', () => tasks.appendEvent('t-1', { kind: 'message', payload: undefined })],
        ['now', () => tasks.appendEvent('t-1', { ...messageEvent('x'), now: -1 })],
        ['afterSeq', () => tasks.events('t-1', { owner: OWNER }, { afterSeq: -1 })],
        ['limit', () => tasks.events('t-1', { owner: OWNER }, { limit: 1_001 })],
        ['historyLength', () => tasks.history('t-1', { owner: OWNER }, 1.5)],
        ['scope', () => tasks.get('t-1', {} as never)],
        ['owner', () => tasks.get('t-1', { owner: '' })],
        ['pageSize', () => tasks.list({ owner: OWNER, pageSize: 101 })],
        ['state', () => tasks.list({ owner: OWNER, state: 'WORKING' as never })],
        ['url', () => tasks.setPushConfig('t-1', { owner: OWNER }, { url: 'not a url' })],
        [
          'token',
          () => tasks.setPushConfig('t-1', { owner: OWNER }, { url: 'https://a.example', token: '' }),
        ],
        [
          'authentication.scheme',
          () =>
            tasks.setPushConfig(
              't-1',
              { owner: OWNER },
              { url: 'https://a.example', authentication: {} as never },
            ),
        ],
      ]
      for (const [field, attempt] of invalid) {
        const error = await attempt().catch((caught: unknown) => caught)
        expect(error, field).toBeInstanceOf(InvalidTaskError)
        expect(error, field).toMatchObject({ code: 'bad_request', field })
      }
      expect(await tasks.get('t-1', { owner: OWNER })).toMatchObject({ lastSeq: 0, state: 'submitted' })
      expect(await tasks.list({ owner: OWNER })).toMatchObject({ total: 1 })
      expect(await tasks.listPushConfigs('t-1', { owner: OWNER })).toEqual([])
    })

    it('refuses an event payload or a merged artifact list over the size limits', async () => {
      const small = fixture.createStore({ maxEventBytes: 200, maxArtifactsBytes: 300 })
      await small.create(taskInput('t-1'))
      const tooLarge = await small
        .appendEvent('t-1', messageEvent('x'.repeat(300)))
        .catch((error: unknown) => error)
      expect(tooLarge).toBeInstanceOf(TaskPayloadTooLargeError)
      expect(tooLarge).toMatchObject({ code: 'payload_too_large', field: 'payload', limit: 200 })
      await small.appendEvent('t-1', artifactEvent('a', ['x'.repeat(100)]))
      await small.appendEvent('t-1', artifactEvent('a', ['y'.repeat(100)], true))
      const grown = await small
        .appendEvent('t-1', artifactEvent('a', ['z'.repeat(100)], true))
        .catch((error: unknown) => error)
      expect(grown).toMatchObject({ name: 'TaskPayloadTooLargeError', field: 'artifacts', limit: 300 })
      expect(await small.get('t-1', { owner: OWNER })).toMatchObject({ lastSeq: 2 })
      await expect(small.create(taskInput('t-2', { metadata: 'm'.repeat(300) }))).rejects.toMatchObject({
        name: 'TaskPayloadTooLargeError',
        field: 'metadata',
      })
    })
  })

  describeTaskPushConfigBehaviour(label, setup)
}
