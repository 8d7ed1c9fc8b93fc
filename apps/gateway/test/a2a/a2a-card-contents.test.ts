import { createPublicKey, type JsonWebKey } from 'node:crypto'
import { AGENT_CARD_PATH, type AgentCard, AgentCard as AgentCardJson } from '@a2a-js/sdk'
import { base64url, decodeProtectedHeader, flattenedVerify, type JWK } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { canonicalCardJson } from '../../src/a2a/a2a-card-signing.js'
import type { GatewayConfigInput } from '../../src/config.js'
import { SdkFixture } from '../support/sdk-agents.js'
import { a2aClient } from './a2a-clients.js'

const TRANSLATE_SCHEMA = {
  type: 'object',
  properties: { text: { type: 'string' }, to: { type: 'string' } },
  required: ['text', 'to'],
}

describe('A2A card contents', () => {
  const fixture = new SdkFixture()

  afterEach(async () => {
    await fixture.dispose()
  })

  async function echoAgent(config: GatewayConfigInput = {}): Promise<void> {
    await fixture.start(config)
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'] })
    echo.handle((data) => data)
    await echo.connect()
  }

  async function cardOf(agentId: string, headers: Record<string, string> = {}): Promise<AgentCard> {
    const response = await fetch(`${fixture.url}/a2a/${agentId}/${AGENT_CARD_PATH}`, {
      headers: { 'A2A-Version': '1.0', ...headers },
    })
    expect(response.status).toBe(200)
    return AgentCardJson.fromJSON(await response.json())
  }

  it('builds skills from the capabilities a plain AgentClient describes (title, description, tags, examples, modes), merged across instances, with metadata.skills as the fallback of older SDKs', async () => {
    await fixture.start()
    const first = fixture.agent({
      agentId: 'translator',
      capabilities: [
        {
          name: 'translate.text',
          title: 'Translate text',
          description: 'Translates text between languages',
          tags: ['language', 'text'],
          examples: ['Translate "bonjour" to English'],
          inputModes: ['application/json'],
          outputModes: ['text/plain'],
          inputSchema: TRANSLATE_SCHEMA,
        },
        'translate.detect',
      ],
      // An older SDK's description: read only where no capabilityInfo describes the capability.
      metadata: {
        skills: {
          'translate.detect': { name: 'Detect language', tags: ['language'] },
          'translate.text': { name: 'ignored: capabilityInfo wins' },
        },
      },
    })
    first.handle((data) => data)
    await first.connect()
    // A second instance describes a capability the first does not have.
    const second = fixture.agent({
      agentId: 'translator',
      capabilities: [
        'translate.text',
        { name: 'translate.summary', title: 'Summarize', description: 'Summarizes text', tags: ['text'] },
      ],
    })
    second.handle((data) => data)
    await second.connect()

    const client = await a2aClient(fixture.url, 'translator')
    const card = await client.getAgentCard()
    const skills = new Map(card.skills.map((skill) => [skill.id, skill]))
    expect([...skills.keys()].sort()).toEqual(['translate.detect', 'translate.summary', 'translate.text'])
    expect(skills.get('translate.text')).toEqual({
      id: 'translate.text',
      name: 'Translate text',
      description: 'Translates text between languages',
      tags: ['language', 'text'],
      examples: ['Translate "bonjour" to English'],
      inputModes: ['application/json'],
      outputModes: ['text/plain'],
      securityRequirements: [],
    })
    expect(skills.get('translate.summary')).toMatchObject({
      name: 'Summarize',
      description: 'Summarizes text',
      tags: ['text'],
    })
    expect(skills.get('translate.detect')).toMatchObject({
      name: 'Detect language',
      description: 'Parley capability translate.detect',
      tags: ['language'],
    })
  })

  it('names the configured public base URL in supportedInterfaces and the signature key URL', async () => {
    await echoAgent({ pairing: { publicUrl: 'https://agents.example.com/parley/' } })
    const card = await cardOf('echo', { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'http' })
    expect(card.supportedInterfaces.map((item) => item.url)).toEqual([
      'https://agents.example.com/parley/a2a/echo',
      'https://agents.example.com/parley/a2a/echo',
      'https://agents.example.com/parley/a2a/echo',
    ])
    const header = JSON.parse(Buffer.from(card.signatures[0]?.protected ?? '', 'base64url').toString()) as {
      jku: string
    }
    expect(header.jku).toBe('https://agents.example.com/parley/a2a/.well-known/jwks.json')
  })

  it('honours X-Forwarded-Proto and X-Forwarded-Host from a trusted proxy', async () => {
    await echoAgent({ trustedProxies: ['127.0.0.1', '::1'] })
    const card = await cardOf('echo', {
      'X-Forwarded-Proto': 'https, http',
      'X-Forwarded-Host': 'gateway.example.com:8443, internal:80',
    })
    expect(card.supportedInterfaces[0]?.url).toBe('https://gateway.example.com:8443/a2a/echo')
    expect(card.provider?.url).toBe('https://gateway.example.com:8443')
    // A forwarded host that is not a host name is not believed.
    const odd = await cardOf('echo', { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'a/b@c' })
    expect(odd.supportedInterfaces[0]?.url).toBe(`${fixture.url.replace(/^http:/, 'https:')}/a2a/echo`)
  })

  it('ignores X-Forwarded-Proto and X-Forwarded-Host from a peer that is not a trusted proxy', async () => {
    await echoAgent({ trustedProxies: ['10.1.2.0/24'] })
    const card = await cardOf('echo', {
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Host': 'evil.example',
    })
    expect(card.supportedInterfaces.map((item) => item.url)).toEqual([
      `${fixture.url}/a2a/echo`,
      `${fixture.url}/a2a/echo`,
      `${fixture.url}/a2a/echo`,
    ])
  })

  it('declares the bearer credential alone when no JWT issuer is configured', async () => {
    await echoAgent()
    const card = await cardOf('echo')
    expect(Object.keys(card.securitySchemes)).toEqual(['bearer'])
    expect(card.securityRequirements).toEqual([{ schemes: { bearer: { list: [] } } }])
  })

  it('declares OpenID Connect at the configured JWT issuer besides the bearer credential, and OAuth2 client credentials when a token URL is configured; the v0.3 card too', async () => {
    const jwt = {
      secret: 'a-jwt-secret-of-at-least-32-characters!!',
      issuer: 'https://id.example.com/realms/parley',
    }
    await echoAgent({ jwt })
    const oidcOnly = await cardOf('echo')
    expect(Object.keys(oidcOnly.securitySchemes).sort()).toEqual(['bearer', 'oidc'])
    expect(oidcOnly.securitySchemes.oidc?.scheme).toMatchObject({
      $case: 'openIdConnectSecurityScheme',
      value: { openIdConnectUrl: 'https://id.example.com/realms/parley/.well-known/openid-configuration' },
    })
    await fixture.dispose()

    await echoAgent({ jwt, a2a: { oauthTokenUrl: 'https://id.example.com/realms/parley/token' } })
    const card = await cardOf('echo')
    expect(Object.keys(card.securitySchemes).sort()).toEqual(['bearer', 'oauth2', 'oidc'])
    expect(card.securitySchemes.oauth2?.scheme).toMatchObject({
      $case: 'oauth2SecurityScheme',
      value: {
        flows: {
          flow: {
            $case: 'clientCredentials',
            value: { tokenUrl: 'https://id.example.com/realms/parley/token' },
          },
        },
      },
    })
    // Any one scheme is enough: one requirement each.
    expect(card.securityRequirements).toEqual(
      expect.arrayContaining([
        { schemes: { bearer: { list: [] } } },
        { schemes: { oidc: { list: [] } } },
        { schemes: { oauth2: { list: [] } } },
      ]),
    )
    const legacy = (await (await fetch(`${fixture.url}/a2a/echo/${AGENT_CARD_PATH}`)).json()) as {
      securitySchemes: Record<string, unknown>
    }
    expect(legacy.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'Bearer' },
      oidc: {
        type: 'openIdConnect',
        openIdConnectUrl: 'https://id.example.com/realms/parley/.well-known/openid-configuration',
      },
      oauth2: {
        type: 'oauth2',
        flows: { clientCredentials: { tokenUrl: 'https://id.example.com/realms/parley/token' } },
      },
    })
  })

  it('signs the v0.3 card (served without A2A-Version) over its own v0.3 form, verifiable with the published key', async () => {
    await echoAgent({ pairing: { secret: 'a-pairing-secret-shared-by-the-nodes-0123456789' } })
    type Signed = Record<string, unknown> & { signatures: Array<{ protected: string; signature: string }> }
    const verify = async (card: Signed) => {
      const signature = card.signatures[0]
      if (signature === undefined) throw new Error('no signature')
      const { kid, jku } = decodeProtectedHeader(signature) as { kid: string; jku: string }
      const { keys } = (await (await fetch(jku)).json()) as { keys: JWK[] }
      const key = keys.find((candidate) => candidate.kid === kid)
      const payload = base64url.encode(new TextEncoder().encode(canonicalCardJson(card)))
      await flattenedVerify(
        { payload, protected: signature.protected, signature: signature.signature },
        createPublicKey({ key: key as JsonWebKey, format: 'jwk' }),
      )
    }
    const legacy = (await (await fetch(`${fixture.url}/a2a/echo/${AGENT_CARD_PATH}`)).json()) as Signed
    expect(legacy).toMatchObject({ protocolVersion: '0.3', url: `${fixture.url}/a2a/echo` })
    // The canonical form: no signatures, no empty values, sorted keys, the v0.3 fields included.
    const canonical = canonicalCardJson(legacy)
    expect(canonical).not.toContain('signatures')
    expect(canonical).toContain(`"url":"${fixture.url}/a2a/echo"`)
    expect(Object.keys(JSON.parse(canonical) as object)).toEqual(
      Object.keys(JSON.parse(canonical) as object).sort(),
    )
    await verify(legacy)
    await expect(verify({ ...legacy, url: 'https://impostor.example/a2a/echo' })).rejects.toThrow()
  })
})
