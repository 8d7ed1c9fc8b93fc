import {
  CreatedToken,
  ERROR_CODES,
  type ErrorCode,
  Health,
  HttpError,
  PollOpenResponse,
} from '@parley/protocol'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall } from '../support/admin-api.js'
import { startDatabaseGateway } from '../support/database-gateway.js'
import {
  BODY_ROUTES,
  type BodyRoute,
  LIVE_SESSION,
  PATH_ROUTES,
  QUERY_ROUTES,
} from '../support/fuzz-http-routes.js'
import { fuzzParameters, fuzzRuns, fuzzTimeoutMs } from '../support/fuzz-settings.js'
import {
  type FuzzText,
  fuzzText,
  hostileValue,
  mutatedObject,
  NASTY_STRINGS,
  safeStringify,
} from '../support/fuzz-values.js'
import { expectStillServing, type ProcessWatch, watchProcess } from '../support/fuzz-watch.js'
import { adminHeaders, startTestGateway, type TestGateway } from '../support/test-gateway.js'

const MAX_PAYLOAD = 16 * 1024
// Cases per property in `pnpm test` (`FUZZ_RUNS` overrides them all; scripts/fuzz.sh sets 20000).
const BODY_RUNS = 200
const RAW_BODY_RUNS = 100
const REQUEST_RUNS = 60
const FLOOD_RUNS = 20
/** Routes are drawn by index: a failure report then shows a number, not a zod schema. */
function routeIndex(routes: readonly unknown[]): fc.Arbitrary<number> {
  return fc.nat({ max: routes.length - 1 })
}

function bodyRoute(index: number): BodyRoute {
  const route = BODY_ROUTES[index]
  if (route === undefined) throw new Error(`no body route ${index}`)
  return route
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  undefined,
] as const

/** Keeps a header value to what `fetch` can send (visible ASCII), whatever was generated. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?')
}

type Credential = { kind: 'admin' } | { kind: 'header'; header: string | undefined }

const badCredential: fc.Arbitrary<Credential> = fc
  .oneof(
    fc.constant(undefined),
    fc.constantFrom(...NASTY_STRINGS).map((token) => `Bearer ${headerSafe(token)}`),
    fc.string({ maxLength: 60 }).map((token) => `Bearer ${headerSafe(token)}`),
    fc.constantFrom('Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'bearer test-admin-token-012345678'),
    // Longer than any token, within Node's 16 KiB header limit (past it Node itself answers 431).
    fc.integer({ min: 4097, max: 12_000 }).map((length) => `Bearer ${'a'.repeat(length)}`),
  )
  .map((header) => ({ kind: 'header', header }))

/** A raw body: malformed JSON, non-objects, empty, or large (within reason). */
function rawBody(): fc.Arbitrary<FuzzText> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 100 }).map(fuzzText),
    fc.json({ maxDepth: 3 }).map(fuzzText),
    fc
      .constantFrom('', ' ', 'null', '[]', '"x"', '{', '{"a":', '{"__proto__":{"polluted":true}}')
      .map(fuzzText),
    fc.integer({ min: 1, max: 20_000 }).map((depth) => fuzzText('['.repeat(depth) + ']'.repeat(depth))),
    fc.integer({ min: 1, max: 1_000_000 }).map((size) => fuzzText(`{"name":"${'x'.repeat(size)}"}`)),
  )
}

function safeJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

interface Answer {
  status: number
  body: unknown
  text: string
}

describe('hostile HTTP bodies, paths, queries and credentials', () => {
  let server: TestGateway
  let watch: ProcessWatch
  /** A valid credential of role client: the admin API refuses it with 403. */
  let clientToken: string

  async function openSession(): Promise<string> {
    const response = await fetch(`${server.started.url}/poll/open`, { method: 'POST', body: '{}' })
    return PollOpenResponse.parse(await response.json()).session
  }

  async function call(
    method: string,
    path: string,
    body: string | undefined,
    credential: Credential,
    contentType: string | undefined = 'application/json',
  ): Promise<Answer> {
    const headers: Record<string, string> = {}
    if (credential.kind === 'admin') Object.assign(headers, adminHeaders())
    else if (credential.header !== undefined) headers.authorization = credential.header
    if (contentType !== undefined) headers['content-type'] = contentType
    const response = await fetch(`${server.started.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    })
    const text = await response.text()
    return { status: response.status, body: safeJson(text), text }
  }

  /** Never a 5xx; every refusal is the one envelope, with the status its code has in the table. */
  function checkAnswer(answer: Answer, what: string): void {
    const shown = `${what} -> ${answer.status} ${answer.text.slice(0, 300)}`
    // Taken first, so a failed case does not leave its log lines to the next one.
    const problems = watch.newProblems()
    expect(answer.status, shown).toBeLessThan(500)
    if (answer.status >= 400) {
      const envelope = HttpError.safeParse(answer.body)
      expect(envelope.success, shown).toBe(true)
      const code = envelope.data?.error.code as ErrorCode
      expect(Object.keys(ERROR_CODES), shown).toContain(code)
      expect(ERROR_CODES[code].status, shown).toBe(answer.status)
    }
    expect(problems, shown).toEqual([])
  }

  /** A wrong credential gets 401 (429 once the address is limited); a valid one of another role 403. */
  function checkRefusedCredential(answer: Answer, path: string, wrong: boolean, what: string): void {
    if (!path.startsWith('/api/admin/')) return
    expect(wrong ? [401, 429] : [403], `${what} -> ${answer.status} ${answer.text.slice(0, 200)}`).toContain(
      answer.status,
    )
  }

  beforeAll(async () => {
    watch = watchProcess()
    // The Postgres stores, as in production: a database refuses input (NUL characters, huge numbers) that
    // memory stores take.
    server = await startDatabaseGateway(
      { maxPayload: MAX_PAYLOAD, authFailureLimit: 1_000_000, polling: { longPollTimeout: 0.2 } },
      { logger: watch.logger },
    )
    const created = await adminCall(server.started.url, 'POST', '/api/admin/tokens', {
      name: 'fuzz client',
      role: 'client',
    })
    clientToken = CreatedToken.parse(created.body).token
  })

  afterAll(async () => {
    await server?.dispose()
    watch?.stop()
  })

  it(
    'answers mutated bodies of every JSON route with the admin token with a typed 4xx (400 when the schema refuses it), never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          routeIndex(BODY_ROUTES).chain((index) =>
            fc.tuple(
              fc.constant(index),
              mutatedObject([bodyRoute(index).seed], MAX_PAYLOAD).map((value) =>
                fuzzText(safeStringify(value)),
              ),
            ),
          ),
          fc.constantFrom(...CONTENT_TYPES),
          async ([index, generated], contentType) => {
            const route = bodyRoute(index)
            const session = generated.text.includes(LIVE_SESSION) ? await openSession() : ''
            const text = generated.text.replaceAll(LIVE_SESSION, session)
            const answer = await call(route.method, route.path, text, { kind: 'admin' }, contentType)
            const what = `${route.method} ${route.path} ${text.slice(0, 300)}`
            checkAnswer(answer, what)
            const refusedBySchema =
              route.schema !== undefined && !route.schema.safeParse(JSON.parse(text)).success
            const tooLarge = route.path.startsWith('/poll/') && Buffer.byteLength(text) > 4 * MAX_PAYLOAD
            if (refusedBySchema && !tooLarge) {
              // 400 naming the field; a body limit in front of the route may refuse a large one first.
              expect([400, 413], `${what} -> ${answer.text.slice(0, 300)}`).toContain(answer.status)
            }
          },
        ),
        fuzzParameters(BODY_RUNS),
      )
    },
    fuzzTimeoutMs(BODY_RUNS),
  )

  it(
    'answers malformed, non-object and large raw bodies on every JSON route with a typed 4xx, never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          routeIndex(BODY_ROUTES),
          rawBody(),
          fc.constantFrom(...CONTENT_TYPES),
          async (index, { text }, contentType) => {
            const route = bodyRoute(index)
            const answer = await call(route.method, route.path, text, { kind: 'admin' }, contentType)
            checkAnswer(answer, `${route.method} ${route.path} ${text.slice(0, 200)}`)
          },
        ),
        fuzzParameters(RAW_BODY_RUNS),
      )
    },
    fuzzTimeoutMs(RAW_BODY_RUNS),
  )

  it(
    'answers every admin route called with a missing or wrong credential with 401 (or 429 once limited), and with a client token with 403',
    async () => {
      const adminRoutes = [
        ...BODY_ROUTES.filter((route) => route.path.startsWith('/api/admin/')).map((route) => ({
          method: route.method,
          path: route.path,
          body: JSON.stringify(route.seed) as string | undefined,
        })),
        ...PATH_ROUTES.filter((route) => route.path('x').startsWith('/api/admin/')).map((route) => ({
          method: route.method,
          path: route.path('x'),
          body: undefined,
        })),
      ]
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...adminRoutes),
          fc.option(badCredential, { nil: undefined }),
          async (route, wrongCredential) => {
            const credential = wrongCredential ?? { kind: 'header', header: `Bearer ${clientToken}` }
            const answer = await call(route.method, route.path, route.body, credential)
            const what = `${route.method} ${route.path} with ${JSON.stringify(credential).slice(0, 100)}`
            checkAnswer(answer, what)
            checkRefusedCredential(answer, route.path, wrongCredential !== undefined, what)
          },
        ),
        fuzzParameters(REQUEST_RUNS),
      )
    },
    fuzzTimeoutMs(REQUEST_RUNS),
  )

  it(
    'answers /poll/open with hostile Origin, Authorization and User-Agent headers with a session or a typed 4xx',
    async () => {
      const headerValue = fc.oneof(
        fc.constantFrom(...NASTY_STRINGS),
        fc.string({ maxLength: 200 }),
        fc.constantFrom(
          'null',
          'http://evil.example',
          'https://[::1]:99999',
          'file://',
          'Bearer',
          'Bearer x y',
        ),
      )
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            { origin: headerValue, authorization: headerValue, 'user-agent': headerValue },
            { requiredKeys: [] },
          ),
          async (generated) => {
            const headers = Object.fromEntries(
              Object.entries(generated).map(([name, value]) => [name, headerSafe(value)]),
            )
            const response = await fetch(`${server.started.url}/poll/open`, {
              method: 'POST',
              headers,
              body: '{}',
            })
            const text = await response.text()
            const answer: Answer = { status: response.status, body: safeJson(text), text }
            checkAnswer(answer, `POST /poll/open with ${JSON.stringify(headers)}`)
            if (answer.status === 200) {
              const { session } = PollOpenResponse.parse(answer.body)
              await fetch(`${server.started.url}/poll/close`, {
                method: 'POST',
                body: JSON.stringify({ session }),
              })
            }
          },
        ),
        fuzzParameters(REQUEST_RUNS),
      )
    },
    fuzzTimeoutMs(REQUEST_RUNS),
  )

  it(
    'answers hostile ids in paths with a typed 4xx, never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...PATH_ROUTES),
          fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: 'binary', maxLength: 80 })),
          async (route, id) => {
            const path = route.path(encodeURIComponent(id.replace(/[\ud800-\udfff]/g, '?')) || 'x')
            const answer = await call(route.method, path, undefined, { kind: 'admin' })
            checkAnswer(answer, `${route.method} ${path}`)
          },
        ),
        fuzzParameters(REQUEST_RUNS),
      )
    },
    fuzzTimeoutMs(REQUEST_RUNS),
  )

  it(
    'answers hostile query strings with a typed 4xx, never a 5xx',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...QUERY_ROUTES).chain((route) =>
            fc.tuple(
              fc.constant(route.path),
              fc.array(
                fc.tuple(
                  fc.oneof(fc.constantFrom(...route.names), fc.string({ maxLength: 10 })),
                  // Cut to keep the URL within Node's 16 KiB header limit (past it Node itself answers 431).
                  hostileValue(1_000).map((value) =>
                    (typeof value === 'string' ? value : safeStringify(value)).slice(0, 1_000),
                  ),
                ),
                { maxLength: 4 },
              ),
            ),
          ),
          async ([path, pairs]) => {
            const query = new URLSearchParams(
              pairs.map(([name, value]) => [name, value.replace(/[\ud800-\udfff]/g, '?')]),
            )
            const url = `${path}?${query.toString()}`
            const answer = await call('GET', url, undefined, { kind: 'admin' })
            checkAnswer(answer, `GET ${url.slice(0, 300)}`)
          },
        ),
        fuzzParameters(REQUEST_RUNS),
      )
    },
    fuzzTimeoutMs(REQUEST_RUNS),
  )

  it('still answers /health and serves a fresh client afterwards, with nothing uncaught in the process', async () => {
    const health = await fetch(`${server.started.url}/health`)
    expect(health.status).toBe(200)
    expect(Health.parse(await health.json()).status).toBe('ok')

    // The fuzzing may have created deny rules: put the policies back before the well-behaved client.
    const policies = await adminCall(server.started.url, 'GET', '/api/admin/policies')
    for (const rule of (policies.body as { rules: Array<{ id: string }> }).rules) {
      expect((await adminCall(server.started.url, 'DELETE', `/api/admin/policies/${rule.id}`)).status).toBe(
        204,
      )
    }
    expect(
      (await adminCall(server.started.url, 'PUT', '/api/admin/policies/default', { effect: 'allow' })).status,
    ).toBe(200)

    const urls = { url: server.started.url, wsUrl: server.started.wsUrl }
    await expectStillServing(watch, urls, { subscriber: 'websocket', publisher: 'polling' })
  })
})

describe('hostile credentials against the failed-auth limit', () => {
  let server: TestGateway
  let watch: ProcessWatch

  beforeAll(async () => {
    watch = watchProcess()
    server = await startTestGateway({ authFailureLimit: 3 }, { logger: watch.logger })
  })
  afterAll(async () => {
    await server?.dispose()
    watch?.stop()
  })

  it(
    'answers a flood of wrong credentials with 401 and then 429 rate_limited with retryAfterMs, never a 5xx',
    async () => {
      const seen = new Set<number>()
      await fc.assert(
        fc.asyncProperty(badCredential, async (credential) => {
          const headers: Record<string, string> =
            credential.kind === 'header' && credential.header !== undefined
              ? { authorization: credential.header }
              : {}
          const response = await fetch(`${server.started.url}/api/admin/tokens`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: '{"name":"x","role":"client"}',
          })
          const envelope = HttpError.parse(await response.json())
          expect([401, 429]).toContain(response.status)
          expect(ERROR_CODES[envelope.error.code as ErrorCode].status).toBe(response.status)
          if (response.status === 429) {
            expect(envelope.error.retryAfterMs).toBeGreaterThan(0)
            expect(response.headers.get('retry-after')).not.toBeNull()
          }
          seen.add(response.status)
          expect(watch.newProblems()).toEqual([])
        }),
        fuzzParameters(FLOOD_RUNS),
      )
      // Three failures are allowed per window: from the fourth wrong credential on, the address is refused.
      if (fuzzRuns(FLOOD_RUNS) > 3) expect(seen.has(429)).toBe(true)
    },
    fuzzTimeoutMs(FLOOD_RUNS),
  )
})
