import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type {
  AuditPage,
  ChannelList,
  ConnectionList,
  DeadLetter,
  DeliveryStats,
  Health,
} from '@parley/protocol/admin'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeList, presenceList } from '@/test-support/presence-fixtures'
import { createGatewayClient } from './gateway-client'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

const servers: Server[] = []

/** A real HTTP server on port 0 standing in for the gateway. */
async function startGateway(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer(handler)
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, server }
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

afterEach(async () => {
  await Promise.all(
    servers
      .splice(0)
      .filter((server) => server.listening)
      .map(stop),
  )
})

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

const health: Health = {
  status: 'ok',
  connections: 2,
  connected_agents: 1,
  uptime_s: 12.5,
  version: '0.1.0',
  timestamp: '2024-05-01T10:30:00.000Z',
}

const connections: ConnectionList = {
  connections: [
    {
      connectionId: 'conn-1',
      clientId: 'agent-1',
      sessionId: 'sess-1',
      principal: 'anonymous',
      transport: 'websocket',
      remoteAddress: '127.0.0.1',
      userAgent: null,
      connectedAt: '2024-05-01T10:30:00.000Z',
      subscriptions: ['alerts'],
      messagesIn: 3,
      messagesOut: 4,
    },
  ],
  pairing: [],
}

describe('gateway client: good answers', () => {
  it('parses /health without sending a token', async () => {
    let authorization: string | undefined = 'unset'
    const { url } = await startGateway((request, response) => {
      authorization = request.headers.authorization
      json(response, 200, health)
    })
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).health()
    expect(result).toEqual({ ok: true, data: health })
    expect(authorization).toBeUndefined()
  })

  it('sends the admin token as a Bearer token and parses the connection list', async () => {
    const seen: { path?: string; authorization?: string } = {}
    const { url } = await startGateway((request, response) => {
      seen.path = request.url
      seen.authorization = request.headers.authorization
      json(response, 200, connections)
    })
    const result = await createGatewayClient({ baseUrl: `${url}/`, token: 'secret' }).connections()
    expect(result).toEqual({ ok: true, data: connections })
    expect(seen).toEqual({ path: '/api/admin/connections', authorization: 'Bearer secret' })
  })

  it('passes audit filters as a query string and parses the page', async () => {
    const page: AuditPage = {
      events: [
        {
          id: '1',
          time: '2024-05-01T10:30:00.000Z',
          kind: 'publish',
          principal: 'anonymous',
          clientId: 'agent-1',
          connectionId: 'conn-1',
          channel: 'alerts',
          target: null,
          size: 42,
          outcome: 'ok',
          detail: null,
          traceId: null,
        },
      ],
      nextCursor: 'next-1',
    }
    let path: string | undefined
    const { url } = await startGateway((request, response) => {
      path = request.url
      json(response, 200, page)
    })
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).audit({
      kind: 'publish',
      channel: 'alerts',
      cursor: 'c0',
      limit: 20,
    })
    expect(result).toEqual({ ok: true, data: page })
    expect(path).toBe('/api/admin/audit?kind=publish&channel=alerts&cursor=c0&limit=20')
  })

  it('parses the channel list', async () => {
    const channels: ChannelList = {
      channels: [{ name: 'alerts', subscribers: 1, durableSubscribers: 0, messages: 2, lastMessageAt: null }],
    }
    const { url } = await startGateway((_request, response) => json(response, 200, channels))
    expect(await createGatewayClient({ baseUrl: url, token: 't' }).channels()).toEqual({
      ok: true,
      data: channels,
    })
  })
})

describe('gateway client: errors', () => {
  it('maps a 401 to unauthorized with the gateway message', async () => {
    const { url } = await startGateway((_request, response) =>
      json(response, 401, { error: { code: 'unauthorized', message: 'bad admin token', retryable: false } }),
    )
    const result = await createGatewayClient({ baseUrl: url, token: 'wrong' }).whoami()
    expect(result).toEqual({ ok: false, failure: { kind: 'unauthorized', message: 'bad admin token' } })
  })

  it('does not call the admin API at all without a token', async () => {
    let calls = 0
    const { url } = await startGateway((_request, response) => {
      calls += 1
      json(response, 200, connections)
    })
    const result = await createGatewayClient({ baseUrl: url }).connections()
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.failure.kind).toBe('unauthorized')
    expect(calls).toBe(0)
  })

  it('maps other error statuses to an http failure carrying the envelope code', async () => {
    const { url } = await startGateway((_request, response) =>
      json(response, 503, { error: { code: 'draining', message: 'shutting down', retryable: true } }),
    )
    const result = await createGatewayClient({ baseUrl: url, token: 't' }).channels()
    expect(result).toEqual({
      ok: false,
      failure: { kind: 'http', status: 503, code: 'draining', message: 'shutting down' },
    })
  })

  it('maps an error status without an envelope to a generic http failure', async () => {
    const { url } = await startGateway((_request, response) => {
      response.writeHead(500, 'Internal Server Error', { 'content-type': 'text/plain' })
      response.end('boom')
    })
    const result = await createGatewayClient({ baseUrl: url, token: 't' }).channels()
    expect(result).toEqual({
      ok: false,
      failure: { kind: 'http', status: 500, code: 'http_error', message: 'Internal Server Error' },
    })
  })

  it('reports a 2xx body that does not match the protocol schema as invalid_response', async () => {
    const { url } = await startGateway((_request, response) => json(response, 200, { status: 'fine' }))
    const result = await createGatewayClient({ baseUrl: url }).health()
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.failure.kind).toBe('invalid_response')
      if (result.failure.kind === 'invalid_response') expect(result.failure.reason).toMatch(/status/)
    }
  })

  it('reports a 2xx body that is not JSON as invalid_response', async () => {
    const { url } = await startGateway((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' })
      response.end('<html></html>')
    })
    const result = await createGatewayClient({ baseUrl: url }).health()
    expect(result).toEqual({
      ok: false,
      failure: { kind: 'invalid_response', url: `${url}/health`, reason: 'the body is not JSON' },
    })
  })

  it('maps a refused connection to unreachable with the URL and the reason', async () => {
    const { url, server } = await startGateway((_request, response) => json(response, 200, health))
    await stop(server)
    const result = await createGatewayClient({ baseUrl: url }).health()
    expect(result.ok).toBe(false)
    if (!result.ok && result.failure.kind === 'unreachable') {
      expect(result.failure.url).toBe(url)
      expect(result.failure.reason).toMatch(/ECONNREFUSED/)
    } else {
      expect.fail(`expected an unreachable failure, got ${JSON.stringify(result)}`)
    }
  })

  it('maps a gateway that never answers to unreachable after the timeout', async () => {
    const { url } = await startGateway(() => {
      // Accept the request and never answer.
    })
    const result = await createGatewayClient({ baseUrl: url, timeoutMs: 100 }).health()
    expect(result).toEqual({
      ok: false,
      failure: { kind: 'unreachable', url, reason: 'no answer within 100 ms' },
    })
  })
})

const stats: DeliveryStats = {
  backend: 'memory',
  pending: 1,
  inflight: 2,
  deadLetters: 3,
  durableSubscriptions: 4,
  counters: {
    enqueued: 10,
    delivered: 9,
    acked: 5,
    nacked: 4,
    redeliveries: 6,
    ackTimeouts: 1,
    deadLettered: 3,
    expired: 0,
    requeued: 1,
    duplicatesSuppressed: 0,
  },
}

const deadLetter: DeadLetter = {
  id: 'dlv_1',
  messageId: 'msg_1',
  kind: 'direct',
  recipient: 'billing',
  source: 'planner',
  channel: null,
  data: { html: '<img src=x onerror=alert(1)>' },
  attempts: 4,
  reason: 'max_retries',
  lastError: 'nacked: database busy',
  createdAt: '2024-05-01T10:30:00.000Z',
  deadAt: '2024-05-01T10:31:00.000Z',
  requeues: 0,
  requeuedAt: null,
}

/** A gateway that records each request's method, path and token and answers with `answer(path)`. */
async function recordingGateway(answer: (method: string, path: string) => [number, unknown]) {
  const seen: Array<{ method: string; path: string; authorization: string | undefined }> = []
  const { url } = await startGateway((request, response) => {
    const method = request.method ?? ''
    const path = request.url ?? ''
    seen.push({ method, path, authorization: request.headers.authorization })
    const [status, body] = answer(method, path)
    json(response, status, body)
  })
  return { url, seen }
}

describe('gateway client: deliveries and the dead-letter queue', () => {
  it('parses the delivery stats with the admin token', async () => {
    const { url, seen } = await recordingGateway(() => [200, stats])
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).deliveries()
    expect(result).toEqual({ ok: true, data: stats })
    expect(seen).toEqual([{ method: 'GET', path: '/api/admin/deliveries', authorization: 'Bearer secret' }])
  })

  it('lists dead letters with the filters and cursor as a query string', async () => {
    const { url, seen } = await recordingGateway(() => [200, { deadLetters: [deadLetter], nextCursor: 'c2' }])
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).deadLetters({
      kind: 'direct',
      recipient: 'billing',
      cursor: 'c1',
      limit: 50,
    })
    expect(result).toEqual({ ok: true, data: { deadLetters: [deadLetter], nextCursor: 'c2' } })
    expect(seen[0]?.path).toBe('/api/admin/dlq?recipient=billing&kind=direct&cursor=c1&limit=50')
  })

  it('fetches one dead letter with its data, the id kept to one path segment', async () => {
    const { url, seen } = await recordingGateway(() => [200, deadLetter])
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).deadLetter('dlv/../x?y')
    expect(result).toEqual({ ok: true, data: deadLetter })
    expect(seen[0]).toMatchObject({ method: 'GET', path: '/api/admin/dlq/dlv%2F..%2Fx%3Fy' })
  })

  it('requeues with a POST and parses the RequeueResult', async () => {
    const { url, seen } = await recordingGateway(() => [200, { id: 'dlv_1', requeued: true }])
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).requeueDeadLetter('dlv_1')
    expect(result).toEqual({ ok: true, data: { id: 'dlv_1', requeued: true } })
    expect(seen).toEqual([
      { method: 'POST', path: '/api/admin/dlq/dlv_1/requeue', authorization: 'Bearer secret' },
    ])
  })

  it('purges one dead letter with a DELETE on its path', async () => {
    const { url, seen } = await recordingGateway(() => [200, { purged: 1 }])
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).purgeDeadLetter('dlv_1')
    expect(result).toEqual({ ok: true, data: { purged: 1 } })
    expect(seen[0]).toMatchObject({ method: 'DELETE', path: '/api/admin/dlq/dlv_1' })
  })

  it('purges all matching with a DELETE carrying the filters only, never a cursor or limit', async () => {
    const { url, seen } = await recordingGateway(() => [200, { purged: 7 }])
    const client = createGatewayClient({ baseUrl: url, token: 'secret' })
    const filtered = await client.purgeDeadLetters({
      channel: ' alerts ',
      kind: 'channel',
      ...({ cursor: 'c1', limit: 5 } as object),
    })
    expect(filtered).toEqual({ ok: true, data: { purged: 7 } })
    await client.purgeDeadLetters({})
    expect(seen.map((request) => `${request.method} ${request.path}`)).toEqual([
      'DELETE /api/admin/dlq?channel=alerts&kind=channel',
      'DELETE /api/admin/dlq',
    ])
  })

  it('maps an unknown dead letter to an http failure with the gateway code', async () => {
    const { url } = await recordingGateway(() => [
      404,
      { error: { code: 'not_found', message: 'no dead letter dlv_9', retryable: false } },
    ])
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).requeueDeadLetter('dlv_9')
    expect(result).toEqual({
      ok: false,
      failure: { kind: 'http', status: 404, code: 'not_found', message: 'no dead letter dlv_9' },
    })
  })

  it('reports a requeue answer that does not match RequeueResult as invalid_response', async () => {
    const { url } = await recordingGateway(() => [200, { id: 'dlv_1', requeued: false }])
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).requeueDeadLetter('dlv_1')
    expect(result).toMatchObject({ ok: false, failure: { kind: 'invalid_response' } })
  })
})

describe('gateway client: pairing, devices, tokens and agent keys', () => {
  const tokenInfo = {
    id: 'tok_1',
    name: '<b>ops</b>',
    role: 'client' as const,
    scopes: ['subscribe:*'],
    subject: null,
    createdAt: '2024-05-01T10:30:00.000Z',
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
  }
  const decision = { requestId: 'pair_1', channelType: 'telegram', senderId: '42', status: 'approved' }
  const device = {
    id: 'dev_1',
    deviceName: 'kitchen tablet',
    platform: 'android',
    remoteAddress: '127.0.0.1',
    createdAt: '2024-05-01T10:30:00.000Z',
    expiresAt: '2024-05-01T10:35:00.000Z',
    status: 'approved',
    tokenId: 'tok_2',
    identity: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
  }
  const agentKey = {
    id: 'did:key:z6MkTest',
    publicKey: 'AbC',
    name: 'planner',
    role: 'agent',
    scopes: ['*:*'],
    createdAt: '2024-05-01T10:30:00.000Z',
    revokedAt: null,
  }

  /** Records each request with its JSON body and answers with `answer(method, path)`. */
  async function bodyRecordingGateway(answer: (method: string, path: string) => [number, unknown]) {
    const seen: Array<{ method: string; path: string; body: unknown; contentType: string | undefined }> = []
    const { url } = await startGateway((request, response) => {
      let text = ''
      request.on('data', (chunk) => {
        text += String(chunk)
      })
      request.on('end', () => {
        const method = request.method ?? ''
        const path = request.url ?? ''
        seen.push({
          method,
          path,
          body: text === '' ? undefined : JSON.parse(text),
          contentType: request.headers['content-type'],
        })
        const [status, body] = answer(method, path)
        json(response, status, body)
      })
    })
    return { url, seen }
  }

  it('reads the pairing overview, device requests, tokens and agent keys with the admin token', async () => {
    const { url, seen } = await bodyRecordingGateway((_method, path) => {
      if (path === '/api/admin/pairing') return [200, { pending: [], paired: [] }]
      if (path === '/api/admin/devices') return [200, { devices: [device] }]
      if (path === '/api/admin/tokens') return [200, { tokens: [tokenInfo] }]
      return [200, { agentKeys: [agentKey] }]
    })
    const client = createGatewayClient({ baseUrl: url, token: 'secret' })
    expect(await client.pairing()).toEqual({ ok: true, data: { pending: [], paired: [] } })
    expect(await client.devices()).toEqual({ ok: true, data: { devices: [device] } })
    expect(await client.tokens()).toEqual({ ok: true, data: { tokens: [tokenInfo] } })
    expect(await client.agentKeys()).toEqual({ ok: true, data: { agentKeys: [agentKey] } })
    expect(seen.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /api/admin/pairing',
      'GET /api/admin/devices',
      'GET /api/admin/tokens',
      'GET /api/admin/agent-keys',
    ])
  })

  it('sends each action with its method and path, ids and names kept to one segment each', async () => {
    const { url, seen } = await bodyRecordingGateway((_method, path) => {
      if (path.startsWith('/api/admin/pairing')) return [200, { ...decision, status: 'revoked' }]
      if (path.startsWith('/api/admin/devices')) return [200, device]
      if (path.startsWith('/api/admin/tokens')) return [200, tokenInfo]
      return [200, agentKey]
    })
    const client = createGatewayClient({ baseUrl: url, token: 'secret' })
    expect((await client.approvePairing('pair_1')).ok).toBe(true)
    expect((await client.denyPairing('pair/2')).ok).toBe(true)
    expect((await client.revokePairedSender('tele gram', 'a/b?c')).ok).toBe(true)
    expect((await client.denyDevice('dev_1')).ok).toBe(true)
    expect((await client.revokeToken('tok_1')).ok).toBe(true)
    expect((await client.revokeAgentKey('did:key:z6MkTest')).ok).toBe(true)
    expect(seen.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /api/admin/pairing/requests/pair_1/approve',
      'POST /api/admin/pairing/requests/pair%2F2/deny',
      'DELETE /api/admin/pairing/paired/tele%20gram/a%2Fb%3Fc',
      'POST /api/admin/devices/dev_1/deny',
      'DELETE /api/admin/tokens/tok_1',
      'DELETE /api/admin/agent-keys/did%3Akey%3Az6MkTest',
    ])
    expect(seen.every((request) => request.body === undefined)).toBe(true)
  })

  it('posts JSON bodies to create a token, approve a device and register an agent key', async () => {
    const { url, seen } = await bodyRecordingGateway((_method, path) => {
      if (path === '/api/admin/tokens') return [201, { token: 'pk_secret', info: tokenInfo }]
      if (path.startsWith('/api/admin/devices')) return [200, device]
      return [201, agentKey]
    })
    const client = createGatewayClient({ baseUrl: url, token: 'secret' })
    const created = await client.createToken({
      name: 'ops',
      role: 'client',
      scopes: ['subscribe:*'],
      expiresIn: 60,
    })
    expect(created).toEqual({ ok: true, data: { token: 'pk_secret', info: tokenInfo } })
    expect((await client.approveDevice('dev_1', { role: 'client', scopes: ['*:*'] })).ok).toBe(true)
    const registered = await client.registerAgentKey({ ...agentKey, role: 'agent' })
    expect(registered).toEqual({ ok: true, data: agentKey })
    expect(seen).toEqual([
      {
        method: 'POST',
        path: '/api/admin/tokens',
        body: { name: 'ops', role: 'client', scopes: ['subscribe:*'], expiresIn: 60 },
        contentType: 'application/json',
      },
      {
        method: 'POST',
        path: '/api/admin/devices/dev_1/approve',
        body: { role: 'client', scopes: ['*:*'] },
        contentType: 'application/json',
      },
      {
        method: 'POST',
        path: '/api/admin/agent-keys',
        body: { ...agentKey, role: 'agent' },
        contentType: 'application/json',
      },
    ])
  })

  it('maps a locked or already decided request to an http failure with the gateway code', async () => {
    const { url } = await bodyRecordingGateway(() => [
      409,
      { error: { code: 'conflict', message: 'request pair_1 is already decided', retryable: false } },
    ])
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).approvePairing('pair_1')
    expect(result).toEqual({
      ok: false,
      failure: { kind: 'http', status: 409, code: 'conflict', message: 'request pair_1 is already decided' },
    })
  })

  it('reports a created token without its secret as invalid_response', async () => {
    const { url } = await bodyRecordingGateway(() => [201, { info: tokenInfo }])
    const result = await createGatewayClient({ baseUrl: url, token: 'secret' }).createToken({
      name: 'ops',
      role: 'client',
      scopes: [],
    })
    expect(result).toMatchObject({ ok: false, failure: { kind: 'invalid_response' } })
  })
})

describe('gateway client: presence and nodes', () => {
  it('reads the presence list and the nodes with the admin token, parsed with the protocol schemas', async () => {
    const seen: { path: string | undefined; authorization: string | undefined }[] = []
    const { url } = await startGateway((request, response) => {
      seen.push({ path: request.url, authorization: request.headers.authorization })
      json(response, 200, request.url === '/api/admin/presence' ? presenceList : nodeList)
    })
    const client = createGatewayClient({ baseUrl: url, token: 'secret' })
    expect(await client.presence()).toEqual({ ok: true, data: presenceList })
    expect(await client.nodes()).toEqual({ ok: true, data: nodeList })
    expect(seen).toEqual([
      { path: '/api/admin/presence', authorization: 'Bearer secret' },
      { path: '/api/admin/nodes', authorization: 'Bearer secret' },
    ])
  })

  it('reports a presence list or node list that does not match the schema as invalid_response', async () => {
    const { url } = await startGateway((request, response) =>
      json(
        response,
        200,
        request.url === '/api/admin/presence'
          ? { clients: [{ clientId: 'a', status: 'online' }], principals: [] }
          : { nodes: [{ ...nodeList.nodes[0], bus: 'splendid' }] },
      ),
    )
    const client = createGatewayClient({ baseUrl: url, token: 'secret' })
    const presence = await client.presence()
    expect(presence).toMatchObject({ ok: false, failure: { kind: 'invalid_response' } })
    if (!presence.ok && presence.failure.kind === 'invalid_response') {
      expect(presence.failure.reason).toMatch(/clients\.0\.principal/)
    }
    const nodes = await client.nodes()
    expect(nodes).toMatchObject({ ok: false, failure: { kind: 'invalid_response' } })
    if (!nodes.ok && nodes.failure.kind === 'invalid_response') expect(nodes.failure.reason).toMatch(/bus/)
  })
})
