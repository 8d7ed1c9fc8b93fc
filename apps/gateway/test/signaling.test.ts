import { generateKeyPairSync, sign } from 'node:crypto'
import { PROTOCOL_VERSION, SignalResult } from '@parley/protocol'
import { didKeyFromPublicKey } from '@parley/stores'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AgentAccess } from '../src/agents/types.js'
import { challengeMessage } from '../src/auth/agent-challenge.js'
import { createMemoryBusNetwork, type MemoryBus } from '../src/bus/memory-bus.js'
import { BUS_GROUPS } from '../src/cluster/cluster-node.js'
import { type FrameOf, TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

type SignalIncoming = FrameOf<'signal_incoming'>

/** Everything is allowed except signals to client ids starting with `private-`. */
const access: AgentAccess = {
  check: (request) =>
    'clientId' in request.target && request.target.clientId?.startsWith('private-') === true
      ? {
          allowed: false,
          code: 'policy_denied',
          rule: 'rule-private',
          message: 'private peers take no signals',
        }
      : { allowed: true, effect: 'allow' },
}

describe('signaling between peers', () => {
  const network = createMemoryBusNetwork()
  let buses: MemoryBus[] = []
  const nodes: TestGateway[] = []
  const clients: TestClient[] = []

  beforeAll(async () => {
    buses = ['signal-node-1', 'signal-node-2'].map((id) => network.join(id))
    for (const bus of buses) nodes.push(await startTestGateway({}, { bus, agentAccess: () => access }))
  })

  afterEach(() => {
    for (const client of clients.splice(0)) client.close()
  })

  afterAll(async () => {
    for (const node of nodes) await node.dispose()
    for (const bus of buses) await bus.close()
  })

  async function connect(node: number, clientId: string): Promise<TestClient> {
    const client = await TestClient.connect(nodes[node]?.started.wsUrl ?? '', { clientId })
    clients.push(client)
    return client
  }

  /** Connects to node 0 with a fresh registered agent key (Ed25519 challenge). */
  async function connectWithKey(scopes: string[], clientId?: string) {
    const pair = generateKeyPairSync('ed25519')
    const publicKey = String(pair.publicKey.export({ format: 'jwk' }).x)
    const did = didKeyFromPublicKey(Buffer.from(publicKey, 'base64url'))
    await nodes[0]?.agentKeys.register(
      { id: did, publicKey, name: 'caller', role: 'agent', scopes },
      Date.now(),
    )
    const agent = await TestClient.open(nodes[0]?.started.wsUrl ?? '')
    clients.push(agent)
    agent.send({
      type: 'hello',
      id: 'h1',
      protocol: { min: 1, max: PROTOCOL_VERSION },
      ...(clientId === undefined ? {} : { clientId }),
      auth: { identity: did },
    })
    const { nonce } = await agent.next('challenge')
    const timestamp = Date.now()
    const signature = sign(null, Buffer.from(challengeMessage(nonce, timestamp, did)), pair.privateKey)
    agent.send({
      type: 'authenticate',
      id: 'a1',
      identity: did,
      nonce,
      timestamp,
      signature: signature.toString('base64url'),
    })
    await agent.next('welcome')
    return { agent, did }
  }

  async function auditRows(node: number) {
    const page = await nodes[node]?.audit?.query({ limit: 100, kind: 'signal' })
    return page?.events ?? []
  }

  function incoming(client: TestClient): SignalIncoming[] {
    return client.framesOf('signal_incoming')
  }

  /** Offer one way, answer the other way, then ICE: each arrives unchanged with the verified sender. */
  async function exchange(caller: TestClient, callerId: string, callee: TestClient, calleeId: string) {
    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n', session: 'call-1' }
    const sent = SignalResult.parse(
      await caller.ok({ type: 'signal', target: calleeId, signal: offer, traceId: 'trace-offer' }),
    )
    expect(sent.delivered).toBe(true)
    const gotOffer = await callee.next('signal_incoming')
    expect(gotOffer).toMatchObject({
      from: { principal: 'anonymous', role: 'client', clientId: callerId },
      signal: offer,
      traceId: 'trace-offer',
      timestamp: sent.timestamp,
    })
    const answer = { type: 'answer', sdp: 'v=0\r\nanswer', session: 'call-1' }
    await callee.ok({ type: 'signal', target: callerId, signal: answer })
    const gotAnswer = await caller.next('signal_incoming')
    expect(gotAnswer.from.clientId).toBe(calleeId)
    expect(gotAnswer.signal).toEqual(answer)
    expect(gotAnswer.traceId.length).toBeGreaterThan(0)
    const ice = {
      type: 'ice',
      candidate: { candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 54321 typ host', sdpMLineIndex: 0 },
      session: 'call-1',
    }
    await caller.ok({ type: 'signal', target: calleeId, signal: ice })
    await callee.waitUntil(() => incoming(callee).length === 2)
    expect(incoming(callee)[1]?.signal).toEqual(ice)
  }

  it('relays offer, answer and ice between two peers on one node, unchanged, from the verified sender', async () => {
    const [alice, bob] = [await connect(0, 'local-alice'), await connect(0, 'local-bob')]
    await exchange(alice, 'local-alice', bob, 'local-bob')
    const rows = await auditRows(0)
    expect(rows.filter((row) => row.target === 'local-bob' && row.outcome === 'ok')).toHaveLength(2)
  })

  it('relays between peers on two nodes, both directions', async () => {
    const [alice, bob] = [await connect(0, 'remote-alice'), await connect(1, 'remote-bob')]
    await exchange(alice, 'remote-alice', bob, 'remote-bob')
  })

  it('never takes the sender from the frame: a claimed from is ignored', async () => {
    const [mallory, bob] = [await connect(0, 'mallory'), await connect(1, 'claim-bob')]
    await mallory.ok({
      type: 'signal',
      target: 'claim-bob',
      signal: { type: 'offer', sdp: 'v=0' },
      from: { principal: 'admin', role: 'admin', clientId: 'alice' },
    })
    expect((await bob.next('signal_incoming')).from).toEqual({
      principal: 'anonymous',
      role: 'client',
      clientId: 'mallory',
    })
  })

  it('answers no_route for a peer that is not online, on this node or any other, and audits it', async () => {
    const alice = await connect(0, 'lonely-alice')
    const answer = await alice.request({ type: 'signal', target: 'nobody-here', signal: { type: 'offer' } })
    expect(answer).toMatchObject({ type: 'error', code: 'no_route' })
    const gone = await connect(1, 'gone-bob')
    gone.close()
    await gone.waitClosed()
    const later = await alice.request({
      type: 'signal',
      target: 'gone-bob',
      signal: { type: 'ice', candidate: {} },
    })
    expect(later).toMatchObject({ type: 'error', code: 'no_route' })
    // The connection is still usable.
    await alice.ok({ type: 'state_get', namespace: 'signals', key: 'k' })
    const rows = await auditRows(0)
    expect(rows.filter((row) => row.target === 'nobody-here').map((row) => row.outcome)).toEqual(['error'])
  })

  it('answers policy_denied from the access check, on this node and across nodes, and delivers nothing', async () => {
    const alice = await connect(0, 'deny-alice')
    const [localPeer, remotePeer] = [await connect(0, 'private-local'), await connect(1, 'private-remote')]
    for (const target of ['private-local', 'private-remote']) {
      const answer = await alice.request({ type: 'signal', target, signal: { type: 'offer', sdp: 'v=0' } })
      expect(answer).toMatchObject({
        type: 'error',
        code: 'policy_denied',
        details: { rule: 'rule-private' },
      })
    }
    const rows = await auditRows(0)
    expect(
      rows
        .filter((row) => row.target?.startsWith('private-') && row.outcome === 'denied')
        .map((row) => row.detail),
    ).toEqual([expect.stringContaining('rule-private'), expect.stringContaining('rule-private')])
    expect(incoming(localPeer)).toEqual([])
    expect(incoming(remotePeer)).toEqual([])
  })

  it('names the sender by its verified agent key identity when it answered the challenge', async () => {
    const { agent, did } = await connectWithKey(['send:*'], 'keyed-agent')
    const bob = await connect(1, 'keyed-bob')
    await agent.ok({ type: 'signal', target: 'keyed-bob', signal: { type: 'offer', sdp: 'v=0' } })
    expect((await bob.next('signal_incoming')).from).toEqual({
      principal: did,
      role: 'agent',
      clientId: 'keyed-agent',
      identity: did,
    })
  })

  it('answers no_route when the node the directory names does not answer in time', {
    timeout: 15_000,
  }, async () => {
    await buses[1]?.putEntry(BUS_GROUPS.clients, 'ghost', 'node-that-died', 60_000)
    const alice = await connect(0, 'ghost-caller')
    const answer = await alice.request({ type: 'signal', target: 'ghost', signal: { type: 'offer' } })
    expect(answer).toMatchObject({ type: 'error', code: 'no_route' })
  })

  it('needs the send scope for the peer, before any policy', async () => {
    const { agent } = await connectWithKey(['send:allowed-*'])
    await connect(0, 'scoped-bob')
    expect(
      await agent.request({ type: 'signal', target: 'scoped-bob', signal: { type: 'offer' } }),
    ).toMatchObject({ type: 'error', code: 'forbidden' })
  })

  it('answers unavailable (retryable) while the bus is unreachable and the peer is not on this node', async () => {
    const alice = await connect(0, 'cut-off-alice')
    buses[0]?.setReachable(false)
    try {
      const answer = await alice.request({
        type: 'signal',
        target: 'somewhere-else',
        signal: { type: 'offer' },
      })
      expect(answer).toMatchObject({ type: 'error', code: 'unavailable', retryable: true })
    } finally {
      buses[0]?.setReachable(true)
    }
  })

  it('refuses a malformed signal with invalid_frame and keeps the connection', async () => {
    const alice = await connect(0, 'malformed-alice')
    expect(await alice.request({ type: 'signal', target: 'x', signal: { type: 'hangup' } })).toMatchObject({
      type: 'error',
      code: 'invalid_frame',
    })
    expect(await alice.request({ type: 'signal', signal: { type: 'offer' } })).toMatchObject({
      type: 'error',
      code: 'invalid_frame',
    })
    await connect(0, 'malformed-bob')
    await alice.ok({ type: 'signal', target: 'malformed-bob', signal: { type: 'offer' } })
  })
})
