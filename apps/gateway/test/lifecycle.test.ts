import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Health, HttpError } from '@parley/protocol'
import {
  createMemoryAgentKeyStore,
  createMemoryAuditLog,
  createMemoryDevicePairingStore,
  createMemoryPairingStore,
  createMemorySessionBindingStore,
  createMemoryTokenStore,
  createPostgresAuditLog,
  openDatabase,
  type ParleyDatabase,
} from '@parley/stores'
import { createTestDatabase, type TestDatabase } from '@parley/stores/testing'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../src/config.js'
import { createGateway } from '../src/create-gateway.js'
import { TestClient } from './support/test-client.js'
import { adminHeaders, startTestGateway, type TestGateway } from './support/test-gateway.js'

const silent = pino({ level: 'silent' })

describe('start-up safety', () => {
  it('refuses to start on a non-loopback host without an auth token, saying how to fix it', async () => {
    const gateway = createGateway({ config: parseConfig({ host: '0.0.0.0', port: 0 }), logger: silent })
    const failure = gateway.start()
    await expect(failure).rejects.toBeInstanceOf(ConfigError)
    await expect(failure).rejects.toThrow(
      /0\.0\.0\.0 without an auth token.*--auth-token.*PARLEY_AUTH_TOKEN/s,
    )
    expect(gateway.state).toBe('created')
  })

  it('starts on a non-loopback host when an auth token is set', async () => {
    const server = await startTestGateway({ host: '0.0.0.0', authToken: 'a-token-for-the-network' })
    const client = await TestClient.connect(server.started.wsUrl, { token: 'a-token-for-the-network' })
    client.close()
    await server.dispose()
  })
})

describe('draining on stop()', () => {
  let database: ParleyDatabase
  let testDatabase: TestDatabase
  beforeAll(async () => {
    testDatabase = await createTestDatabase()
    database = await openDatabase(
      testDatabase.url === undefined ? { dataDir: testDatabase.dataDir } : { url: testDatabase.url },
    )
  })
  afterAll(async () => {
    await database.close()
    await testDatabase.drop()
  })

  it('sends shutdown to every client, closes them with 1001 and flushes the audit log', async () => {
    // The gateway writes its own Postgres audit log into the injected database; rows recorded during the
    // drain only reach the table if stop() flushes.
    const server = await startTestGateway({}, { memoryAudit: false, database })
    const clients = [
      await TestClient.connect(server.started.wsUrl, { clientId: 'drain-a' }),
      await TestClient.connect(server.started.wsUrl, { clientId: 'drain-b' }),
    ]
    await server.gateway.stop({ drainTimeoutMs: 2_000 })

    for (const client of clients) {
      expect(await client.next('shutdown')).toMatchObject({
        reason: expect.any(String),
        reconnectAfterMs: expect.any(Number),
      })
      expect((await client.waitClosed()).code).toBe(1001)
    }
    const reader = createPostgresAuditLog(database)
    const page = await reader.query({ kind: 'disconnect', limit: 10 })
    expect(page.events.map((event) => event.clientId).sort()).toEqual(['drain-a', 'drain-b'])
    await reader.close()
    await server.dispose()
  })

  it('reports draining on /health, 503 on /ready and refuses new WebSocket upgrades while it drains', async () => {
    const server = await startTestGateway()
    const client = await TestClient.connect(server.started.wsUrl)
    const stopping = server.gateway.stop({ drainTimeoutMs: 2_000 })

    const health = Health.parse(await (await server.gateway.app.request('/health')).json())
    expect(health.status).toBe('draining')
    expect((await server.gateway.app.request('/ready')).status).toBe(503)
    const upgrade = await server.gateway.app.request('/ws', { headers: { upgrade: 'websocket' } })
    expect(upgrade.status).toBe(503)
    expect(HttpError.parse(await upgrade.json()).error.code).toBe('shutting_down')

    await stopping
    expect((await client.waitClosed()).code).toBe(1001)
    await server.dispose()
  })

  it('tells a client whose upgrade completes just as the drain begins to go away, instead of keeping it', async () => {
    // The route checks for draining before the upgrade; the connection opens a moment later. Starting the
    // drain exactly there (when the hub makes the connection's logger) reproduces that window every time.
    const logger = pino({ level: 'silent' })
    const makeChild = logger.child.bind(logger)
    let stopping: Promise<void> | undefined
    let server: TestGateway | undefined
    logger.child = ((bindings, options) => {
      if ('connectionId' in bindings && server !== undefined) {
        stopping ??= server.gateway.stop({ drainTimeoutMs: 3_000 })
      }
      return makeChild(bindings, options)
    }) as typeof logger.child
    server = await startTestGateway({}, { logger })
    const client = await TestClient.open(server.started.wsUrl)
    expect(await client.next('shutdown', 1_000)).toMatchObject({ type: 'shutdown' })
    expect((await client.waitClosed(1_000)).code).toBe(1001)
    await stopping
    expect(server.gateway.stats().connections).toBe(0)
    await server.dispose()
  })

  it('cuts off clients that do not close within the drain timeout', async () => {
    const server = await startTestGateway()
    const client = await TestClient.connect(server.started.wsUrl)
    // Stop reading: the close frame is never answered.
    client.socket.pause()
    await server.gateway.stop({ drainTimeoutMs: 100 })
    expect(server.gateway.stats().connections).toBe(0)
    client.socket.resume()
    await client.waitClosed()
    await server.dispose()
  })

  it('a stop() during start() waits for start-up, then drains: nothing is left listening', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-stop-during-start-'))
    const gateway = createGateway({
      config: parseConfig({ port: 0, dataDir, databaseUrl: 'memory://' }),
      adminToken: 'stop-during-start-admin-token',
      logger: silent,
    })
    const starting = gateway.start()
    const stopping = gateway.stop()
    const again = gateway.stop()
    const started = await starting
    await stopping
    await again
    expect(gateway.state).toBe('stopped')
    await expect(fetch(`${started.url}/health`)).rejects.toThrow()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('can start again on the same port after stopping', async () => {
    const first = await startTestGateway()
    const port = first.started.port
    await first.gateway.stop()
    const second = await startTestGateway({ port })
    expect(second.started.port).toBe(port)
    const client = await TestClient.connect(second.started.wsUrl)
    client.close()
    await first.dispose()
    await second.dispose()
  })
})

describe('first start', () => {
  let dataDir: string
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('generates an admin token once, keeps only its hash, and accepts it on the next start', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'parley-first-start-'))
    const start = () =>
      createGateway({
        config: parseConfig({ port: 0, dataDir }),
        audit: createMemoryAuditLog(),
        tokenStore: createMemoryTokenStore(),
        sessionBinding: createMemorySessionBindingStore(),
        pairingStore: createMemoryPairingStore({ secret: new Uint8Array(32).fill(7) }),
        devicePairing: createMemoryDevicePairingStore(),
        agentKeys: createMemoryAgentKeyStore(),
        logger: silent,
      })
    const first = start()
    const firstStart = await first.start()
    const token = firstStart.generatedAdminToken
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await first.stop()

    const second = start()
    const secondStart = await second.start()
    expect(secondStart.generatedAdminToken).toBeUndefined()
    const ok = await fetch(`${secondStart.url}/api/admin/whoami`, { headers: adminHeaders(token) })
    expect(ok.status).toBe(200)
    await second.stop()
  })
})

describe('with a database and no injected audit log', () => {
  let server: TestGateway
  let testDatabase: TestDatabase
  beforeAll(async () => {
    testDatabase = await createTestDatabase()
    server = await startTestGateway(
      testDatabase.url === undefined ? { dataDir: testDatabase.dataDir } : { databaseUrl: testDatabase.url },
      { memoryAudit: false },
    )
  })
  afterAll(async () => {
    await server.dispose()
    await testDatabase.drop()
  })

  it('opens the database, reports it ready and stores audit rows there, SQL-looking ids literally', async () => {
    const ready = await fetch(`${server.started.url}/ready`)
    expect(await ready.json()).toEqual({
      ready: true,
      checks: { server: { ok: true }, database: { ok: true } },
    })

    const clientId = 'x--drop:table@audit_events'
    const client = await TestClient.connect(server.started.wsUrl, { clientId })
    await client.subscribe('db.audit')
    await client.request({ type: 'publish', channel: 'db.audit', data: "'; DROP TABLE audit_events; --" })
    const response = await fetch(`${server.started.url}/api/admin/audit?principal=anonymous`, {
      headers: adminHeaders(),
    })
    const page = (await response.json()) as { events: { kind: string; clientId: string }[] }
    expect(page.events.filter((event) => event.clientId === clientId).map((event) => event.kind)).toEqual(
      expect.arrayContaining(['connect', 'subscribe', 'publish']),
    )
    client.close()
  })
})
