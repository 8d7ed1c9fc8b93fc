import { OAuthProtectedResourceMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { SdkFixture } from '../support/sdk-agents.js'
import { mcpClient, rawMcp } from './mcp-clients.js'

const SHARED = 'shared-gateway-token-0123'
const JWT_SECRET = 'a-jwt-secret-of-at-least-32-characters!'
const ISSUER = 'https://idp.example.com'

const listTools = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
const callEcho = JSON.stringify({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name: 'echo__echo', arguments: {} },
})

describe('/mcp authentication and scopes', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  async function start() {
    const server = await fixture.start({ authToken: SHARED, jwt: { secret: JWT_SECRET, issuer: ISSUER } })
    const echo = fixture.agent({ agentId: 'echo', authToken: SHARED, capabilities: ['echo'] })
    echo.handle((data) => data)
    await echo.connect()
    return server
  }

  it('answers a request without a token 401 with WWW-Authenticate naming the RFC 9728 metadata, and serves a valid document', async () => {
    await start()
    const refused = await rawMcp(fixture.url, listTools)
    expect(refused.status).toBe(401)
    const metadataUrl = `${fixture.url}/.well-known/oauth-protected-resource/mcp`
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer /)
    expect(refused.headers.get('www-authenticate')).toContain(`resource_metadata="${metadataUrl}"`)
    expect(refused.body).toMatchObject({ error: { code: 'unauthorized' } })
    const wrong = await rawMcp(fixture.url, listTools, {
      authorization: 'Bearer not-a-token-of-this-gateway',
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toContain('resource_metadata=')

    const metadata = await fetch(metadataUrl)
    expect(metadata.status).toBe(200)
    const document = OAuthProtectedResourceMetadataSchema.parse(await metadata.json())
    expect(document).toMatchObject({
      resource: `${fixture.url}/mcp`,
      authorization_servers: [ISSUER],
      scopes_supported: ['mcp:list', 'mcp:call'],
      bearer_methods_supported: ['header'],
    })
  })

  it('accepts API tokens and JWTs as elsewhere, and a JWT principal lists the tools', async () => {
    const server = await start()
    const jwt = await new SignJWT({ role: 'client', scope: 'mcp:list mcp:call' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setSubject('alice')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET))
    const overJwt = await mcpClient(`${fixture.url}/mcp`, jwt)
    expect((await overJwt.listTools()).tools.map((tool) => tool.name)).toEqual(['echo__echo'])
    await overJwt.close()
    const token = await server.tokens.create({ name: 't', role: 'client', scopes: [] }, Date.now())
    const overToken = await mcpClient(`${fixture.url}/mcp`, token.token)
    expect(await overToken.callTool({ name: 'echo__echo', arguments: { a: 1 } })).toMatchObject({
      structuredContent: { a: 1 },
    })
    await overToken.close()
    await server.audit?.flush()
    const rows = (await server.audit?.query({ kind: 'mcp', limit: 20 }))?.events ?? []
    expect(rows.some((row) => row.principal === 'alice' && row.detail?.startsWith('tools/list'))).toBe(true)
  })

  it('honours mcp:list and mcp:call: a token scoped for other things is refused 403 insufficient_scope', async () => {
    const server = await start()
    const publisher = await server.tokens.create(
      { name: 'p', role: 'client', scopes: ['publish:*'] },
      Date.now(),
    )
    const noMcp = await rawMcp(fixture.url, listTools, { authorization: `Bearer ${publisher.token}` })
    expect(noMcp.status).toBe(403)
    expect(noMcp.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect(noMcp.body).toMatchObject({ error: { code: -32003, data: { code: 'forbidden' } } })

    const lister = await server.tokens.create({ name: 'l', role: 'client', scopes: ['mcp:list'] }, Date.now())
    const listed = await rawMcp(fixture.url, listTools, { authorization: `Bearer ${lister.token}` })
    expect(listed.status).toBe(200)
    expect(listed.body).toMatchObject({ id: 1, result: { tools: [{ name: 'echo__echo' }] } })
    const call = await rawMcp(fixture.url, callEcho, { authorization: `Bearer ${lister.token}` })
    expect(call.status).toBe(403)
    expect(call.headers.get('www-authenticate')).toContain('scope="mcp:call"')
    expect(call.body).toMatchObject({ id: 2, error: { code: -32003 } })
    await server.audit?.flush()
    const denied = ((await server.audit?.query({ kind: 'mcp', limit: 20 }))?.events ?? []).filter(
      (row) => row.outcome === 'denied',
    )
    expect(denied.map((row) => [row.principal, row.detail])).toEqual(
      expect.arrayContaining([
        [publisher.record.id, 'POST /mcp forbidden scope=mcp:list|mcp:call'],
        [lister.record.id, 'tools/call forbidden scope=mcp:call'],
      ]),
    )
  })

  it('refuses a browser origin that is not allowed (DNS rebinding) and serves an allowed one', async () => {
    await start()
    const headers = { authorization: `Bearer ${SHARED}` }
    const evil = await rawMcp(fixture.url, listTools, { ...headers, origin: 'http://evil.example' })
    expect(evil.status).toBe(403)
    expect(evil.body).toMatchObject({ error: { data: { code: 'forbidden' } } })
    // The dashboard's origin is allowed by default (allowedOrigins).
    const dashboard = await rawMcp(fixture.url, listTools, { ...headers, origin: 'http://127.0.0.1:3000' })
    expect(dashboard.status).toBe(200)
  })
})
