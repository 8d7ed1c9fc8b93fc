import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { JwtConfigSchema } from '../config.js'
import { createJwtVerifier, type JwtVerifier, type JwtVerifierOptions } from './jwt-verifier.js'

const SECRET = 'a-shared-hs256-secret-of-32-chars!!'
const key = new TextEncoder().encode(SECRET)

function verifierFor(
  input: Parameters<typeof JwtConfigSchema.parse>[0],
  options: JwtVerifierOptions = {},
): JwtVerifier {
  const verifier = createJwtVerifier(JwtConfigSchema.parse(input), options)
  if (verifier === undefined) throw new Error('no verifier')
  return verifier
}

function hs256(
  claims: Record<string, unknown>,
  options: { expiresIn?: string | number; secret?: Uint8Array } = {},
) {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt()
  if (options.expiresIn !== undefined) jwt.setExpirationTime(options.expiresIn)
  return jwt.sign(options.secret ?? key)
}

describe('JWT verifier (HS256)', () => {
  it('is off while neither a secret nor a JWKS URL is configured', () => {
    expect(createJwtVerifier(JwtConfigSchema.parse({}))).toBeUndefined()
  })

  it('accepts a valid token and maps subject, role and space-separated scopes', async () => {
    const verifier = verifierFor({ secret: SECRET, issuer: 'https://idp.example', audience: 'parley' })
    const token = await new SignJWT({ role: 'agent', scope: 'publish:alerts.* subscribe:*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-42')
      .setIssuer('https://idp.example')
      .setAudience('parley')
      .setExpirationTime('5m')
      .sign(key)
    const result = await verifier.verify(token)
    expect(result).toEqual({
      ok: true,
      jwt: {
        principal: 'user-42',
        role: 'agent',
        scopes: ['publish:alerts.*', 'subscribe:*'],
        expiresAt: expect.any(Number),
      },
    })
  })

  it('reads custom claim names and an array of scopes; a missing role claim means client', async () => {
    const verifier = verifierFor({
      secret: SECRET,
      roleClaim: 'parley_role',
      scopesClaim: 'permissions',
      principalClaim: 'email',
    })
    const token = await hs256({ email: 'ann@example.com', permissions: ['send:*', 42] })
    expect(await verifier.verify(token)).toMatchObject({
      ok: true,
      jwt: { principal: 'ann@example.com', role: 'client', scopes: ['send:*'], expiresAt: undefined },
    })
  })

  it.each([
    ['an expired token', () => hs256({ sub: 'u' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), {}],
    [
      'a wrong signature',
      () => hs256({ sub: 'u' }, { secret: new TextEncoder().encode('x'.repeat(32)) }),
      {},
    ],
    [
      'a wrong issuer',
      () => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('evil').sign(key),
      { issuer: 'https://idp.example' },
    ],
    [
      'a wrong audience',
      () => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).setAudience('other').sign(key),
      { audience: 'parley' },
    ],
    ['an unknown role', () => hs256({ sub: 'u', role: 'superuser' }), {}],
    ['no subject', () => hs256({ role: 'client' }), {}],
    [
      'an unsigned token',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"u"}').toString('base64url')}.`,
      {},
    ],
  ])('refuses %s', async (_name, make, extra) => {
    const verifier = verifierFor({ secret: SECRET, ...extra })
    const result = await verifier.verify(await make())
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/^jwt refused/) })
  })
})

describe('JWT verifier (clock tolerance)', () => {
  const exp = 1_800_000_000

  it('accepts a token expired within the tolerance and expires it at exp plus the tolerance, the same rule', async () => {
    const token = await hs256({ sub: 'u' }, { expiresIn: exp })
    const twoSecondsLate = verifierFor(
      { secret: SECRET, clockTolerance: 5 },
      { now: () => exp * 1000 + 2_000 },
    )
    const accepted = await twoSecondsLate.verify(token)
    expect(accepted).toMatchObject({ ok: true, jwt: { expiresAt: (exp + 5) * 1000 } })
    // The expiry close of the connection is not due yet when the token was just accepted.
    expect(accepted.ok && (accepted.jwt.expiresAt ?? 0) > exp * 1000 + 2_000).toBe(true)

    const sixSecondsLate = verifierFor(
      { secret: SECRET, clockTolerance: 5 },
      { now: () => exp * 1000 + 6_000 },
    )
    expect(await sixSecondsLate.verify(token)).toMatchObject({
      ok: false,
      reason: 'jwt refused: ERR_JWT_EXPIRED',
    })
  })
})

describe('JWT verifier (JWKS)', () => {
  let server: Server | undefined
  let fetches = 0
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    server = undefined
    fetches = 0
  })

  /** Serves `keys` (the test may replace its contents to rotate) and counts the fetches. */
  async function serveJwks(keys: JWK[]): Promise<string> {
    const jwksServer = createServer((_request, response) => {
      fetches += 1
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ keys }))
    })
    server = jwksServer
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`
  }

  it.each([
    ['RS256', {}],
    ['EdDSA', { crv: 'Ed25519' }],
  ] as const)('verifies an %s token against keys served by a JWKS URL', async (alg, options) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, options)
    const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg }
    const url = await serveJwks([jwk])
    const verifier = verifierFor({ jwksUrl: url, audience: 'parley' })
    const token = await new SignJWT({ role: 'admin', scope: 'subscribe:*' })
      .setProtectedHeader({ alg, kid: 'key-1' })
      .setSubject('ops')
      .setAudience('parley')
      .setExpirationTime('1m')
      .sign(privateKey)
    expect(await verifier.verify(token)).toMatchObject({
      ok: true,
      jwt: { principal: 'ops', role: 'admin', scopes: ['subscribe:*'] },
    })

    const { privateKey: otherKey } = await generateKeyPair(alg, options)
    const forged = await new SignJWT({ sub: 'ops' })
      .setProtectedHeader({ alg, kid: 'key-1' })
      .setAudience('parley')
      .sign(otherKey)
    expect(await verifier.verify(forged)).toMatchObject({ ok: false })
    // HMAC tokens are not accepted when only a JWKS is configured (no algorithm confusion).
    expect(await verifier.verify(await hs256({ sub: 'ops', aud: 'parley' }))).toMatchObject({ ok: false })
  })

  async function rsaKey(kid: string) {
    const { publicKey, privateKey } = await generateKeyPair('RS256')
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256' }
    const sign = (subject: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid })
        .setSubject(subject)
        .setExpirationTime('1m')
        .sign(privateKey)
    return { jwk, sign }
  }

  it('accepts a token signed with a key the provider rotated in within the cooldown, after one refetch', async () => {
    const first = await rsaKey('key-1')
    const second = await rsaKey('key-2')
    const keys = [first.jwk]
    const verifier = verifierFor({ jwksUrl: await serveJwks(keys), jwksCooldown: 0.05 })
    expect(await verifier.verify(await first.sign('ann'))).toMatchObject({ ok: true })
    expect(fetches).toBe(1)

    keys.splice(0, keys.length, second.jwk)
    expect(await verifier.verify(await second.sign('ann'))).toMatchObject({
      ok: true,
      jwt: { principal: 'ann' },
    })
    expect(fetches).toBe(2)
  })

  it('refuses an unknown key id only after a refetch, and tokens arriving together share that one fetch', async () => {
    const known = await rsaKey('key-1')
    const unknown = await rsaKey('not-published')
    const verifier = verifierFor({ jwksUrl: await serveJwks([known.jwk]), jwksCooldown: 0.05 })
    expect(await verifier.verify(await known.sign('ann'))).toMatchObject({ ok: true })
    const tokens = await Promise.all(Array.from({ length: 10 }, () => unknown.sign('mallory')))
    const results = await Promise.all(tokens.map((token) => verifier.verify(token)))
    for (const result of results) {
      expect(result).toEqual({ ok: false, reason: 'jwt refused: ERR_JWKS_NO_MATCHING_KEY' })
    }
    expect(fetches).toBe(2)
  })
})
