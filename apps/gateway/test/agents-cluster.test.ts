import { AgentSendResult, AgentsListResult, RequestResult, StreamOpenResult } from '@parley/protocol'
import { createMemoryDeliveryBackend, type DeliveryBackend } from '@parley/stores'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMemoryBusNetwork, type MemoryBus } from '../src/bus/memory-bus.js'
import { parseConfig } from '../src/config.js'
import { deliveryBackendOptions } from '../src/delivery/open-delivery-backend.js'
import { answerRequests, connectAgent } from './support/agent-clients.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

/** Two gateways on the in-process bus network: agents on one node are reachable from the other. */
describe('agents across nodes', () => {
  let backend: DeliveryBackend
  let buses: MemoryBus[]
  let nodes: TestGateway[]
  const clients: TestClient[] = []

  beforeEach(async () => {
    const network = createMemoryBusNetwork()
    backend = createMemoryDeliveryBackend(deliveryBackendOptions(parseConfig({})))
    buses = ['node-1', 'node-2'].map((id) => network.join(id))
    nodes = []
    for (const bus of buses) nodes.push(await startTestGateway({}, { bus, deliveryBackend: backend }))
  })

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    for (const node of nodes) await node.dispose()
    for (const bus of buses) await bus.close()
    await backend.close()
  })

  async function agentOn(node: number, agentId: string, capabilities: string[] = []) {
    const registered = await connectAgent(nodes[node]?.started.wsUrl ?? '', agentId, capabilities)
    clients.push(registered.client)
    return registered
  }

  async function clientOn(node: number): Promise<TestClient> {
    const client = await TestClient.connect(nodes[node]?.started.wsUrl ?? '')
    clients.push(client)
    return client
  }

  it('routes a request from node 1 to an agent on node 2 and brings the reply back', async () => {
    const { client: remote, instanceId } = await agentOn(1, 'remote', ['far'])
    answerRequests(remote, (frame) => ({ data: { echoed: frame.data, from: frame.from.clientId } }))
    const caller = await clientOn(0)
    const result = RequestResult.parse(
      await caller.ok({ type: 'request', target: { capability: 'far' }, data: 'hi' }),
    )
    expect(result).toMatchObject({ agentId: 'remote', instanceId, attempts: 1 })
    expect(result.data).toMatchObject({ echoed: 'hi' })
  })

  it('lists the node-2 agent on node 1, with its node', async () => {
    await agentOn(1, 'remote', ['far'])
    const caller = await clientOn(0)
    const { agents } = AgentsListResult.parse(await caller.ok({ type: 'agents_list' }))
    expect(agents).toHaveLength(1)
    expect(agents[0]?.instances[0]).toMatchObject({ agentId: 'remote', node: 'node-2', status: 'active' })
  })

  it('relays a stream across nodes with credit, and aborts with peer_gone when the remote agent dies', async () => {
    const { client: remote } = await agentOn(1, 'remote')
    const caller = await clientOn(0)
    const { streamId } = StreamOpenResult.parse(
      await caller.ok({ type: 'stream_open', target: 'remote', data: 1, credit: 2 }),
    )
    expect((await remote.next('stream_incoming')).credit).toBe(2)
    remote.send({ type: 'stream_chunk', streamId, seq: 1, data: 'a' })
    remote.send({ type: 'stream_chunk', streamId, seq: 2, data: 'b' })
    await caller.waitUntil(() => caller.framesOf('stream_chunk').length === 2, 5_000, 'two chunks')
    caller.send({ type: 'stream_credit', streamId, credit: 1 })
    await remote.next('stream_credit')
    remote.send({ type: 'stream_chunk', streamId, seq: 3, data: 'c' })
    await caller.waitUntil(() => caller.framesOf('stream_chunk').length === 3, 5_000, 'a third chunk')
    remote.socket.terminate()
    expect(await caller.next('stream_abort')).toMatchObject({ streamId, reason: 'peer_gone' })
  })

  it('delivers an agent_send from node 1 to an agent on node 2 with fromAgent', async () => {
    const { client: remote } = await agentOn(1, 'remote')
    const { client: sender } = await agentOn(0, 'sender')
    const result = AgentSendResult.parse(
      await sender.ok({ type: 'agent_send', target: 'remote', data: { hello: 1 } }),
    )
    expect(result.recipients).toEqual(['remote'])
    const message = await remote.next('direct_message')
    expect(message).toMatchObject({ id: result.id, fromAgent: 'sender', data: { hello: 1 } })
    await remote.ok({ type: 'ack', deliveryIds: [message.deliveryId] })
  })

  it('answers agent_unavailable on node 1 when the node-2 agent dies before answering', async () => {
    const { client: remote } = await agentOn(1, 'remote')
    const caller = await clientOn(0)
    const pending = caller.request({ type: 'request', target: 'remote', data: 1 })
    await remote.next('request_incoming')
    remote.socket.terminate()
    expect(await pending).toMatchObject({ type: 'error', code: 'agent_unavailable' })
  })
})
