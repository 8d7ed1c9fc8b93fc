import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TaskState } from '@a2a-js/sdk'
import { AgentClient } from '@parley/client'
import { createTestDatabase, type TestDatabase, testServerUrl } from '@parley/stores/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { a2aClient, sendRequest, userText } from '../a2a/a2a-clients.js'
import { freePort, type GatewayProcess, startGatewayProcess } from './support/gateway-process.js'

/**
 * A2A tasks are durable: a gateway process on the postgres backend streams a task to its end, is SIGKILLed
 * and started again on the same database; `GetTask` then answers the task with every event, on the restarted
 * node and on a second node sharing the database.
 */

const CHUNKS = 40
const WAIT_MS = 60_000
const serverUrl = testServerUrl()
const SKIP_REASON =
  'skipped: needs DATABASE_URL, a real PostgreSQL server; the gateway runs as a separate process that is ' +
  'SIGKILLed and restarted on the same database, which in-memory PGlite cannot outlive'

describe.skipIf(serverUrl === undefined)(
  serverUrl === undefined ? `A2A tasks across a crash (${SKIP_REASON})` : 'A2A tasks across a crash',
  () => {
    let database: TestDatabase
    const dataDirs: string[] = []
    const gateways: GatewayProcess[] = []
    const agents: AgentClient[] = []

    beforeAll(async () => {
      database = await createTestDatabase('postgres', serverUrl)
    })

    afterAll(async () => {
      await Promise.all(agents.map((agent) => agent.close()))
      for (const gateway of gateways) await gateway.kill()
      await database?.drop()
      for (const dir of dataDirs) await rm(dir, { recursive: true, force: true })
    })

    async function startNode(port: number, dataDir: string): Promise<GatewayProcess> {
      if (database.url === undefined) throw new Error('the test database has no URL')
      const gateway = await startGatewayProcess({
        port,
        args: ['--store-backend', 'postgres', '--database-url', database.url, '--data-dir', dataDir],
        env: { PARLEY_ADMIN_TOKEN: 'a2a-crash-admin-token-0123456789' },
      })
      gateways.push(gateway)
      return gateway
    }

    /** A plain AgentClient streaming `CHUNKS` chunks, reconnecting quickly to its node after a restart. */
    async function connectWriter(port: number): Promise<AgentClient> {
      const writer = new AgentClient(`ws://127.0.0.1:${port}/ws`, {
        agentId: 'writer',
        clientId: `writer-${port}`,
        capabilities: ['write'],
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        connectTimeoutMs: WAIT_MS,
      })
      writer.handleStream(async (_data, sink) => {
        for (let index = 1; index <= CHUNKS; index += 1) await sink.write(`chunk ${index}`)
      })
      agents.push(writer)
      await writer.connect()
      return writer
    }

    const expectedChunks = Array.from({ length: CHUNKS }, (_, index) => ({
      $case: 'text',
      value: `chunk ${index + 1}`,
    }))

    it('GetTask returns a streamed task with all its events after a SIGKILL and restart, on that node and on another node', async () => {
      const [portA, portB] = [await freePort(), await freePort()]
      const [dirA, dirB] = [
        await mkdtemp(join(tmpdir(), 'parley-a2a-crash-a-')),
        await mkdtemp(join(tmpdir(), 'parley-a2a-crash-b-')),
      ]
      dataDirs.push(dirA, dirB)
      const nodeA = await startNode(portA, dirA)
      const writerA = await connectWriter(portA)

      const client = await a2aClient(`http://127.0.0.1:${portA}`, 'writer')
      let taskId = ''
      let lastState: TaskState | undefined
      for await (const event of client.sendMessageStream(sendRequest(userText('write it all')))) {
        if (event.payload?.$case === 'task') taskId = event.payload.value.id
        if (event.payload?.$case === 'statusUpdate') lastState = event.payload.value.status?.state
      }
      expect(taskId).not.toBe('')
      expect(lastState).toBe(TaskState.TASK_STATE_COMPLETED)

      // No drain, no shutdown: the process dies with whatever it had in flight.
      await nodeA.kill()
      await startNode(portA, dirA)
      // The agent's SDK reconnects to the restarted node by itself and registers again.
      await expect
        .poll(() => writerA.registered !== undefined && writerA.state === 'connected', {
          timeout: WAIT_MS,
        })
        .toBe(true)

      const afterRestart = await (await a2aClient(`http://127.0.0.1:${portA}`, 'writer')).getTask({
        tenant: '',
        id: taskId,
      })
      expect(afterRestart.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
      expect(afterRestart.history[0]?.parts[0]?.content).toEqual({ $case: 'text', value: 'write it all' })
      expect(afterRestart.artifacts[0]?.parts.map((part) => part.content)).toEqual(expectedChunks)

      // A second node on the same database (the agent known there too) reads the same task.
      await startNode(portB, dirB)
      await connectWriter(portB)
      const onOtherNode = await (await a2aClient(`http://127.0.0.1:${portB}`, 'writer')).getTask({
        tenant: '',
        id: taskId,
      })
      expect(onOtherNode.status?.state).toBe(TaskState.TASK_STATE_COMPLETED)
      expect(onOtherNode.artifacts[0]?.parts.map((part) => part.content)).toEqual(expectedChunks)
    }, 180_000)
  },
)
