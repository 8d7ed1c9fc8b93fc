import { generateKeyPairSync } from 'node:crypto'
import type { AgentClient } from '@parley/client'
import { didKeyFromPublicKey } from '@parley/stores'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { OpenApiContract } from './support/openapi-contract.js'
import { SdkFixture } from './support/sdk-agents.js'
import { adminHeaders } from './support/test-gateway.js'

/**
 * The contract test of the OpenAPI document: every operation it lists is called on a real gateway (with an
 * admin token, an API token, or no credential, as documented) and each answer's status and body are checked
 * against the document as the gateway serves it. Some operations are called so that they refuse (an unknown
 * id, a link that is not valid): the refusal is then what is checked, as documented.
 */

const V1 = { 'A2A-Version': '1.0', 'content-type': 'application/json' }
const JSON_BODY = { 'content-type': 'application/json' }

describe('the OpenAPI document served at /api/openapi.json', () => {
  const fixture = new SdkFixture()
  let url: string
  let contract: OpenApiContract
  let token: string
  let tokenId: string
  let echo: AgentClient

  /** Calls a documented operation and checks the answer; `params` fill the documented path. */
  async function call(
    operationId: string,
    init: {
      params?: Record<string, string>
      query?: Record<string, string>
      headers?: Record<string, string>
      body?: unknown
      bodyless?: boolean
    } = {},
  ) {
    const operation = contract.operation(operationId)
    const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = init.params?.[name]
      if (value === undefined) throw new Error(`${operationId}: no value for {${name}}`)
      return encodeURIComponent(value)
    })
    const query = init.query === undefined ? '' : `?${new URLSearchParams(init.query).toString()}`
    // The API token is created by the admin API test, which runs first (the tests of a file run in order).
    const auth = operation.schemes.includes('adminToken')
      ? adminHeaders()
      : operation.schemes.includes('bearerToken')
        ? { authorization: `Bearer ${token}` }
        : {}
    const response = await fetch(`${url}${path}${query}`, {
      method: operation.method,
      headers: {
        ...auth,
        ...(init.body === undefined ? {} : JSON_BODY),
        ...init.headers,
      },
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    })
    return contract.check(operationId, response, { bodyless: init.bodyless ?? false })
  }

  beforeAll(async () => {
    await fixture.start({
      mcp: { enabled: true },
      a2a: { pushAllowInsecureUrls: true, pushAllowPrivateAddresses: true },
    })
    url = fixture.url
    const document = (await (await fetch(`${url}/api/openapi.json`)).json()) as Record<string, unknown>
    contract = new OpenApiContract(document)
    echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => `echo: ${String(data)}`)
    echo.handleStream(async (data, sink) => {
      await sink.write(`${String(data)} 1`)
    })
    await echo.connect()
  })

  afterAll(async () => {
    await fixture.dispose()
  })

  it('is itself served as documented, with the reference page and its script from the gateway', async () => {
    const served = await call('openApiDocument')
    expect(served.body).toMatchObject({ openapi: '3.1.1', servers: [{ url: '/' }] })
    const page = await call('apiReference')
    expect(page.body).toContain('src="docs/scalar.js"')
    expect(page.body).not.toContain('cdn.jsdelivr.net')
    const script = await call('apiReferenceScript')
    expect(String(script.body).length).toBeGreaterThan(100_000)
  })

  it('answers the admin API as documented', async () => {
    const created = await call('createToken', { body: { name: 'contract', role: 'client' } })
    ;({
      token,
      info: { id: tokenId },
    } = created.body as { token: string; info: { id: string } })
    const spare = await call('createToken', { body: { name: 'spare', role: 'agent' } })
    await call('tokens')
    await call('revokeToken', { params: { id: (spare.body as { info: { id: string } }).info.id } })

    await call('health')
    await call('whoami')
    const session = await call('openSession', { body: {} })
    const { session: secret, info } = session.body as { session: string; info: { id: string } }
    await call('sessions')
    await call('revokeSession', { params: { id: info.id } })
    const current = await call('openSession')
    const currentSecret = (current.body as { session: string }).session
    expect(currentSecret).not.toBe(secret)
    await call('endSession', { headers: { authorization: `Bearer ${currentSecret}` } })
    await call('revokeAllSessions')

    for (const operationId of ['connections', 'channels', 'nodes', 'presence', 'deliveries'])
      await call(operationId)
    await call('timeseries', { query: { range: '15m' } })
    await call('timeseries', { query: { range: '15m', agent: 'echo' } })
    await call('agents', { query: { capability: 'echo' } })

    await call('policies')
    await call('setPolicyDefault', { body: { effect: 'allow' } })
    const rule = {
      id: 'contract-rule',
      effect: 'deny',
      actions: ['subscribe'],
      subject: { kind: 'principal', pattern: 'nobody' },
      target: { kind: 'channel', pattern: 'contract.*' },
      priority: 1,
    }
    await call('createPolicyRule', { body: rule })
    await call('updatePolicyRule', { params: { id: rule.id }, body: { priority: 2 } })
    await call('deletePolicyRule', { params: { id: rule.id } })
    await call('grants')
    await call('revokeGrant', { params: { id: 'no-such-grant' } })

    await call('a2aAgents')
    await call('addA2aAgent', { body: { urls: ['http://127.0.0.1:9/.well-known/agent-card.json'] } })
    await call('removeA2aAgent', { params: { agentId: 'no-such-agent' } })
    await call('refreshA2aAgent', { params: { agentId: 'no-such-agent' } })
    await call('a2aTask', { params: { id: 'no-such-task' }, query: { agentId: 'echo' } })
    await call('mcpServers')
    await call('addMcpServer', { body: { name: 'nothing', url: 'http://127.0.0.1:9/mcp' } })
    await call('removeMcpServer', { params: { name: 'nothing' } })
    await call('mcpTools', { query: { as: 'contract' } })

    await call('audit', { query: { limit: '5' } })
    await call('auditVerification')
    await call('conversation', { query: { a: 'contract', b: 'echo' } })
    await call('conversationExchanges', { query: { a: 'contract', b: 'echo' } })
    await call('agentMap', { query: { window: '1h' } })
    await call('deadLetters')
    await call('deadLetter', { params: { id: 'no-such-letter' } })
    await call('requeueDeadLetter', { params: { id: 'no-such-letter' } })
    await call('purgeDeadLetter', { params: { id: 'no-such-letter' } })
    await call('purgeDeadLetters')

    await call('pairing')
    await call('approvePairing', { params: { id: 'no-such-request' } })
    await call('denyPairing', { params: { id: 'no-such-request' } })
    await call('approvePairingCode', { body: { channelType: 'telegram', code: 'NOPE1234' } })
    await call('revokePairedSender', { params: { channelType: 'telegram', senderId: 'nobody' } })
    await call('devices')
    await call('approveDevice', { params: { id: 'no-such-device' } })
    await call('denyDevice', { params: { id: 'no-such-device' } })

    const publicKey = String(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x)
    const did = didKeyFromPublicKey(Buffer.from(publicKey, 'base64url'))
    await call('registerAgentKey', { body: { id: did, publicKey, name: 'contract' } })
    await call('agentKeys')
    await call('revokeAgentKey', { params: { id: did } })
  })

  it('answers health, transports and the agent directory as documented', async () => {
    await call('ready')
    await call('metrics')
    // Without an upgrade, then with one (101 is not visible to fetch).
    expect((await call('openWebSocket')).status).toBe(400)
    const upgraded = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${fixture.wsUrl}`)
      socket.once('upgrade', (response) => {
        resolve(response.statusCode ?? 0)
        socket.terminate()
      })
      socket.once('error', reject)
    })
    expect(contract.operation('openWebSocket').responses[String(upgraded)]).toBeDefined()
    contract.checked.get('openWebSocket')?.add(upgraded)

    const opened = await call('openPollSession')
    const session = (opened.body as { session: string }).session
    await call('pollSend', { body: { session, frames: ['{"type":"ping"}'] } })
    await call('pollReceive', { body: { session, ack: 0, waitMs: 0 } })
    await call('pollClose', { body: { session } })
    expect((await call('pollClose', { body: { session } })).status).toBe(404)

    await call('reachableAgents', { query: { capability: 'echo' } })
  })

  it('answers the A2A face as documented', async () => {
    await call('a2aDirectory')
    await call('a2aCardKeys')
    await call('a2aAgentCard', { params: { agentId: 'echo' }, headers: { 'A2A-Version': '1.0' } })
    await call('a2aAgentCardLegacy', { params: { agentId: 'echo' } })
    const message = { message: { messageId: 'contract-1', role: 'ROLE_USER', parts: [{ text: 'hi' }] } }
    await call('a2aJsonRpc', {
      params: { agentId: 'echo' },
      headers: V1,
      body: { jsonrpc: '2.0', id: 1, method: 'SendMessage', params: message },
    })
    const events = await call('a2aJsonRpc', {
      params: { agentId: 'echo' },
      headers: V1,
      body: {
        jsonrpc: '2.0',
        id: 2,
        method: 'SendStreamingMessage',
        params: { message: { ...message.message, messageId: 'contract-rpc-stream' } },
      },
    })
    expect(events.body).toContain('data:')
    const sent = await call('a2aSendMessage', { params: { agentId: 'echo' }, headers: V1, body: message })
    const taskId = (sent.body as { task: { id: string } }).task.id
    const streamed = await call('a2aStreamMessage', {
      params: { agentId: 'echo' },
      headers: V1,
      body: { message: { ...message.message, messageId: 'contract-2' } },
    })
    expect(streamed.body).toContain('data:')
    await call('a2aListTasks', { params: { agentId: 'echo' }, headers: V1, query: { pageSize: '5' } })
    await call('a2aGetTask', { params: { agentId: 'echo', taskId }, headers: V1 })
    await call('a2aCancelTask', { params: { agentId: 'echo', taskId }, headers: V1 })
    await call('a2aSubscribeTask', { params: { agentId: 'echo', taskId }, headers: V1 })
    await call('a2aSubscribeTaskPost', { params: { agentId: 'echo', taskId }, headers: V1 })
    const hook = { url: 'http://127.0.0.1:9/hook', token: 'contract-token' }
    const config = await call('a2aCreatePushConfig', {
      params: { agentId: 'echo', taskId },
      headers: V1,
      body: hook,
    })
    const configId = (config.body as { id: string }).id
    await call('a2aListPushConfigs', { params: { agentId: 'echo', taskId }, headers: V1 })
    await call('a2aGetPushConfig', { params: { agentId: 'echo', taskId, configId }, headers: V1 })
    await call('a2aDeletePushConfig', { params: { agentId: 'echo', taskId, configId }, headers: V1 })
    // The admin view of the same task.
    await call('a2aTasks', { query: { owner: tokenId, agentId: 'echo' } })
    await call('a2aTask', { params: { id: taskId }, query: { agentId: 'echo' } })
  })

  it('answers the MCP face and approval links as documented', async () => {
    await call('mcpResourceMetadata')
    const mcp = { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' }
    await call('mcpCall', { headers: mcp, body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} } })
    await call('mcpCall', { headers: mcp, body: { jsonrpc: '2.0', method: 'notifications/initialized' } })
    const progress = await call('mcpCall', {
      headers: mcp,
      body: {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'echo__echo', arguments: { text: 'hi' }, _meta: { progressToken: 'contract' } },
      },
    })
    expect(progress.body).toContain('data:')
    await call('mcpListen', { headers: { ...mcp, accept: 'text/event-stream' }, bodyless: true })
    await call('mcpEndSession', { headers: mcp })

    expect((await call('approvalLinkPage', { params: { token: 'not-a-link' } })).status).toBe(403)
    expect((await call('approveByLink', { params: { token: 'not-a-link' } })).status).toBe(403)
  })

  it('has had every operation it lists called', () => {
    expect(contract.operationIds.filter((id) => !contract.checked.has(id))).toEqual([])
  })
})
