import { TaskState } from '@a2a-js/sdk'
import { createMemoryDeliveryBackend, createMemoryTaskStore, type TaskStore } from '@parley/stores'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus } from '../../src/bus/memory-bus.js'
import { NODE_TTL_MS } from '../../src/cluster/cluster-node.js'
import { parseConfig } from '../../src/config.js'
import { deliveryBackendOptions } from '../../src/delivery/open-delivery-backend.js'
import { SdkFixture } from '../support/sdk-agents.js'
import { startTestGateway, type TestGateway } from '../support/test-gateway.js'
import { a2aClient, leftWorking, patientAgent, sendRequest, userText } from './a2a-clients.js'

/** Two gateway nodes on one memory bus, sharing the task store and the delivery backend. */
function twoNodeCluster() {
  const network = createMemoryBusNetwork()
  const taskStore = createMemoryTaskStore()
  const deliveryBackend = createMemoryDeliveryBackend(deliveryBackendOptions(parseConfig({})))
  const buses: MemoryBus[] = []
  const nodes: TestGateway[] = []
  return {
    taskStore,
    buses,
    nodes,
    async start(nodeId: string, config: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
      const bus = network.join(nodeId)
      buses.push(bus)
      const node = await startTestGateway(config, { bus, deliveryBackend, taskStore })
      nodes.push(node)
      return node
    },
    async dispose(): Promise<void> {
      for (const node of nodes) await node.dispose()
      for (const bus of buses) await bus.close()
      await deliveryBackend.close()
    },
  }
}

const RETURN_IMMEDIATELY = {
  acceptedOutputModes: [],
  taskPushNotificationConfig: undefined,
  returnImmediately: true,
}

const stateOf = async (tasks: TaskStore, id: string) => (await tasks.get(id, { agentId: 'worker' }))?.state

describe('A2A tasks across gateway nodes', () => {
  const fixture = new SdkFixture()
  let cluster = twoNodeCluster()

  afterEach(async () => {
    fixture.server = undefined
    await fixture.dispose()
    await cluster.dispose()
    cluster = twoNodeCluster()
  })

  it('CancelTask received by node B aborts the agent work of a task that runs on node A, and ends it CANCELED on both', async () => {
    const nodeA = await cluster.start('node-a')
    const nodeB = await cluster.start('node-b')
    fixture.server = nodeA
    const { handlerStarted, sawAbort } = await patientAgent(fixture, 'worker', 'work')

    const throughA = await a2aClient(nodeA.started.url, 'worker')
    const submitted = await throughA.sendMessage({
      ...sendRequest(userText('a long job')),
      configuration: RETURN_IMMEDIATELY,
    })
    if (!('id' in submitted)) throw new Error('expected a task')
    await handlerStarted
    expect((await cluster.taskStore.get(submitted.id, { agentId: 'worker' }))?.metadata).toMatchObject({
      parley: { node: 'node-a' },
    })

    const throughB = await a2aClient(nodeB.started.url, 'worker')
    const canceled = await throughB.cancelTask({ tenant: '', id: submitted.id, metadata: {} })
    expect(canceled.status?.state).toBe(TaskState.TASK_STATE_CANCELED)
    expect(await sawAbort).toMatchObject({ name: 'AbortError', reason: 'canceled' })
    for (const client of [throughA, throughB])
      expect((await client.getTask({ tenant: '', id: submitted.id })).status?.state).toBe(
        TaskState.TASK_STATE_CANCELED,
      )
    // One CANCELED status, not one per node.
    const events = await cluster.taskStore.events(submitted.id, { agentId: 'worker' })
    expect(events.filter((event) => event.state === 'canceled')).toHaveLength(1)
  })

  it('fails the tasks left working by a node with no heartbeat, at start-up and periodically, and leaves the tasks of live nodes alone', async () => {
    // Left by a node that died, and by an earlier process of node-b itself (SIGKILL, then restarted).
    await leftWorking(cluster.taskStore, 'of-a-dead-node', 'node-dead')
    await leftWorking(cluster.taskStore, 'of-node-b-before-restart', 'node-b')
    const config = { a2a: { orphanSweepInterval: 0.2 } }
    const nodeA = await cluster.start('node-a', config)
    await cluster.start('node-b', config)
    fixture.server = nodeA
    const { handlerStarted } = await patientAgent(fixture, 'worker', 'work')
    const running = await (await a2aClient(nodeA.started.url, 'worker')).sendMessage({
      ...sendRequest(userText('a long job')),
      configuration: RETURN_IMMEDIATELY,
    })
    if (!('id' in running)) throw new Error('expected a task')
    await handlerStarted

    await expect
      .poll(() => stateOf(cluster.taskStore, 'of-node-b-before-restart'), { timeout: 20_000 })
      .toBe('failed')
    await expect.poll(() => stateOf(cluster.taskStore, 'of-a-dead-node'), { timeout: 20_000 }).toBe('failed')
    const failed = await cluster.taskStore.get('of-a-dead-node', { agentId: 'worker' })
    expect(failed?.status).toMatchObject({
      state: 'TASK_STATE_FAILED',
      message: {
        metadata: { parley: { code: 'node_gone', node: 'node-dead' } },
        parts: [{ text: expect.stringContaining('node-dead that ran this task is gone') }],
      },
    })
    // node-a is alive and runs its task: still working after it is old enough for the sweeps to consider it
    // (NODE_TTL_MS unchanged) and a few sweeps of both nodes went by. A wait, as nothing happens to wait for.
    const startedAt = (await cluster.taskStore.get(running.id, { agentId: 'worker' }))?.updatedAt ?? 0
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, startedAt + NODE_TTL_MS + 1_000 - Date.now())),
    )
    expect(await stateOf(cluster.taskStore, running.id)).toBe('working')

    // node-a stops heartbeating (cut from the bus, as if killed): node-b fails its task once its entry expired.
    cluster.buses[0]?.setReachable(false)
    await expect.poll(() => stateOf(cluster.taskStore, running.id), { timeout: 30_000 }).toBe('failed')
    expect((await cluster.taskStore.get(running.id, { agentId: 'worker' }))?.status).toMatchObject({
      message: { metadata: { parley: { node: 'node-a' } } },
    })
    cluster.buses[0]?.setReachable(true)
  }, 60_000)
})
