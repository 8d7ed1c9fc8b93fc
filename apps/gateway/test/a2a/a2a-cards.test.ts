import { createPublicKey, type JsonWebKey } from 'node:crypto'
import {
  AGENT_CARD_PATH,
  type AgentCard,
  AgentCard as AgentCardJson,
  verifyAgentCardSignature,
} from '@a2a-js/sdk'
import type { JWK } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { buildAgentCard } from '../../src/a2a/a2a-card.js'
import { adminCall } from '../support/admin-api.js'
import { SdkFixture, waitUntil } from '../support/sdk-agents.js'
import { a2aClient, bearerFetch } from './a2a-clients.js'

/** A card built from a registry entry, typed as the SDK's `AgentCard`: the compiler checks its shape. */
const FIXTURE_CARD: AgentCard = buildAgentCard(
  {
    agentId: 'translator',
    capabilities: ['translate.text', 'translate.detect'],
    status: 'active',
    connectedSince: 0,
    instances: [
      {
        instanceId: 'ins-1',
        agentId: 'translator',
        clientId: 'c-1',
        principal: 'p',
        capabilities: ['translate.text', 'translate.detect'],
        metadata: {
          description: 'Translates text',
          skills: {
            'translate.text': {
              name: 'Translate text',
              description: 'Translates text between languages',
              tags: ['language'],
              examples: ['Translate "bonjour" to English'],
              inputModes: ['text/plain'],
            },
            // Not a valid description: the skill keeps the defaults.
            'translate.detect': { tags: 'language' },
          },
        },
        status: 'active',
        connectedAt: 0,
        lastSeen: 0,
        inFlight: 0,
        node: 'n-1',
      },
    ],
  },
  'https://gateway.example',
  '1.2.3',
)

describe('A2A agent cards', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  it('builds a card the SDK reads back unchanged: skills from capabilities (described by metadata.skills), JSON-RPC v1.0 and v0.3 and HTTP+JSON v1.0 interfaces, streaming, bearer', () => {
    expect(AgentCardJson.fromJSON(AgentCardJson.toJSON(FIXTURE_CARD))).toEqual(FIXTURE_CARD)
    expect(FIXTURE_CARD).toMatchObject({
      name: 'translator',
      description: 'Translates text',
      supportedInterfaces: [
        { url: 'https://gateway.example/a2a/translator', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
        { url: 'https://gateway.example/a2a/translator', protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
        {
          url: 'https://gateway.example/a2a/translator',
          protocolBinding: 'HTTP+JSON',
          protocolVersion: '1.0',
        },
      ],
      capabilities: { streaming: true },
      securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    })
    expect(FIXTURE_CARD.skills).toEqual([
      {
        id: 'translate.text',
        name: 'Translate text',
        description: 'Translates text between languages',
        tags: ['language'],
        examples: ['Translate "bonjour" to English'],
        inputModes: ['text/plain'],
        outputModes: [],
        securityRequirements: [],
      },
      {
        id: 'translate.detect',
        name: 'translate.detect',
        description: 'Parley capability translate.detect',
        tags: ['translate.detect'],
        examples: [],
        inputModes: [],
        outputModes: [],
        securityRequirements: [],
      },
    ])
  })

  it('serves the live card at agent-card.json and agent.json (v0.3 shape without A2A-Version), found by createFromUrl, and lists reachable agents at GET /a2a', async () => {
    await fixture.start({ authToken: 'gateway-secret-token-0123' })
    const echo = fixture.agent({
      agentId: 'echo',
      capabilities: ['echo', 'echo.loud'],
      authToken: 'gateway-secret-token-0123',
    })
    echo.handle((data) => data)
    await echo.connect()
    const fetchWithToken = bearerFetch('gateway-secret-token-0123')

    const v1 = { headers: { 'A2A-Version': '1.0' } }
    const cardResponse = await fetchWithToken(`${fixture.url}/a2a/echo/${AGENT_CARD_PATH}`, v1)
    expect(cardResponse.status).toBe(200)
    const card = AgentCardJson.fromJSON(await cardResponse.json())
    expect(card.skills.map((skill) => skill.id)).toEqual(['echo', 'echo.loud'])
    expect(card.supportedInterfaces[0]?.url).toBe(`${fixture.url}/a2a/echo`)
    const older = await fetchWithToken(`${fixture.url}/a2a/echo/.well-known/agent.json`, v1)
    expect(AgentCardJson.fromJSON(await older.json())).toEqual(card)
    // Without A2A-Version the caller speaks v0.3: the v0.3 card shape, naming the JSON-RPC URL.
    const legacy = await fetchWithToken(`${fixture.url}/a2a/echo/${AGENT_CARD_PATH}`)
    expect(await legacy.json()).toMatchObject({
      name: 'echo',
      url: `${fixture.url}/a2a/echo`,
      preferredTransport: 'JSONRPC',
      protocolVersion: '0.3',
      capabilities: { streaming: true },
      skills: [{ id: 'echo' }, { id: 'echo.loud' }],
      securitySchemes: { bearer: { type: 'http', scheme: 'Bearer' } },
    })

    const client = await a2aClient(fixture.url, 'echo', 'gateway-secret-token-0123')
    expect((await client.getAgentCard()).name).toBe('echo')

    const listed = await fetchWithToken(`${fixture.url}/a2a`)
    expect(await listed.json()).toEqual({
      agents: [
        {
          agentId: 'echo',
          status: 'active',
          capabilities: ['echo', 'echo.loud'],
          cardUrl: `${fixture.url}/a2a/echo/.well-known/agent-card.json`,
        },
      ],
    })
  })

  it('refuses a card or a call without the gateway credential (401) and answers 404 for an unknown agent card', async () => {
    await fixture.start({ authToken: 'gateway-secret-token-0123' })
    const noCredential = await fetch(`${fixture.url}/a2a/echo/${AGENT_CARD_PATH}`)
    expect(noCredential.status).toBe(401)
    expect(noCredential.headers.get('www-authenticate')).toContain('Bearer')
    const call = await fetch(`${fixture.url}/a2a/echo`, { method: 'POST', body: '{}' })
    expect(call.status).toBe(401)
    const unknown = await bearerFetch('gateway-secret-token-0123')(
      `${fixture.url}/a2a/nobody/${AGENT_CARD_PATH}`,
    )
    expect(unknown.status).toBe(404)
  })

  it('keeps serving the card of a known agent that disconnected, marked as not connected, and hides a card the policies deny', async () => {
    await fixture.start()
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    await echo.connect()
    await echo.close()
    const cardOf = async (agentId: string) =>
      fetch(`${fixture.url}/a2a/${agentId}/${AGENT_CARD_PATH}`, { headers: { 'A2A-Version': '1.0' } })
    await waitUntil(async () => {
      const body = (await (await cardOf('echo')).json()) as { description?: string }
      return body.description?.endsWith('(not connected)') === true
    })

    expect(
      (
        await adminCall(fixture.url, 'POST', '/api/admin/policies', {
          id: 'hide-echo',
          effect: 'deny',
          actions: ['request'],
          subject: { kind: 'principal', pattern: '*' },
          target: { kind: 'capability', pattern: 'echo' },
          priority: 10,
        })
      ).status,
    ).toBe(201)
    expect((await cardOf('echo')).status).toBe(404)
    expect(await (await fetch(`${fixture.url}/a2a`)).json()).toEqual({ agents: [] })
  })

  it('signs the card with the gateway Ed25519 key, verifiable with the key published at the JWKS URL, the same key on every node sharing the pairing secret', async () => {
    const secret = 'a-pairing-secret-shared-by-the-nodes-0123456789'
    await fixture.start({ pairing: { secret } })
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    await echo.connect()

    const card = AgentCardJson.fromJSON(
      await (
        await fetch(`${fixture.url}/a2a/echo/${AGENT_CARD_PATH}`, { headers: { 'A2A-Version': '1.0' } })
      ).json(),
    )
    expect(card.signatures).toHaveLength(1)
    const header = JSON.parse(Buffer.from(card.signatures[0]?.protected ?? '', 'base64url').toString()) as {
      alg: string
      kid: string
      jku: string
    }
    expect(header).toMatchObject({ alg: 'EdDSA', jku: `${fixture.url}/a2a/.well-known/jwks.json` })
    const published = async (kid: string, jku?: string) => {
      const { keys } = (await (await fetch(jku ?? '')).json()) as { keys: JWK[] }
      const key = keys.find((candidate) => candidate.kid === kid)
      if (key === undefined) throw new Error(`no key ${kid}`)
      return createPublicKey({ key: key as JsonWebKey, format: 'jwk' })
    }
    await expect(verifyAgentCardSignature(published)(card)).resolves.toBeUndefined()
    // A card changed after signing does not verify.
    await expect(verifyAgentCardSignature(published)({ ...card, name: 'impostor' })).rejects.toThrow()

    const jwksOfFirst = await (await fetch(header.jku)).json()
    await fixture.dispose()
    await fixture.start({ pairing: { secret } })
    expect(await (await fetch(`${fixture.url}/a2a/.well-known/jwks.json`)).json()).toEqual(jwksOfFirst)
  })
})
