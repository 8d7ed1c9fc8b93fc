import {
  createMemoryAgentKeyStore,
  createMemoryAuditLog,
  createMemoryDeliveryBackend,
  createMemoryDevicePairingStore,
  createMemoryGrantStore,
  createMemoryPairingStore,
  createMemoryPolicyStore,
  createMemorySessionBindingStore,
  createMemoryTaskStore,
  createMemoryTokenStore,
} from '@parley/stores'
import { sql } from 'drizzle-orm'
import { pino } from 'pino'
import { describe, expect, it, vi } from 'vitest'
import { type GatewayConfig, parseConfig } from '../config.js'
import { deliveryBackendOptions } from '../delivery/open-delivery-backend.js'
import { createStoreSlot, type InjectedStores, openStores } from './open-stores.js'

const logger = pino({ level: 'silent' })
const context = { logger, pairingSecret: new Uint8Array(32).fill(1) }

/**
 * Every store that lives on the database, in memory (with the memory store backend, which `memoryBackend`
 * names, the state and upstream stores default to memory).
 */
function storesNeedingADatabase(config: GatewayConfig) {
  return {
    audit: createMemoryAuditLog(),
    deliveryBackend: createMemoryDeliveryBackend(deliveryBackendOptions(config)),
    tokenStore: createMemoryTokenStore(),
    sessionBinding: createMemorySessionBindingStore(),
    pairingStore: createMemoryPairingStore({
      secret: context.pairingSecret,
      codeTtlMs: 60_000,
      maxPendingPerChannelType: 3,
      maxFailedAttempts: 3,
    }),
    devicePairing: createMemoryDevicePairingStore(),
    agentKeys: createMemoryAgentKeyStore(),
    policyStore: createMemoryPolicyStore({ defaultEffect: 'allow' }),
    grantStore: createMemoryGrantStore(),
    taskStore: createMemoryTaskStore(),
  } satisfies InjectedStores
}

const memoryBackend = { delivery: { storeBackend: 'memory' as const } }

describe('openStores', () => {
  it('opens no database when every store that needs one is injected, and closes none of the injected ones', async () => {
    const config = parseConfig(memoryBackend)
    const given = storesNeedingADatabase(config)
    const closes = {
      audit: vi.spyOn(given.audit, 'close'),
      flush: vi.spyOn(given.audit, 'flush'),
      deliveries: vi.spyOn(given.deliveryBackend, 'close'),
      tasks: vi.spyOn(given.taskStore, 'close'),
    }
    const opened = await openStores(config, given, context)
    expect(opened.stores.database).toBeUndefined()
    await opened.stores.tokens.create({ name: 'one', role: 'client', scopes: [] }, Date.now())
    expect((await given.tokenStore.list()).length).toBe(1)

    await opened.close()
    expect(closes.flush).toHaveBeenCalledTimes(1)
    expect(closes.audit).not.toHaveBeenCalled()
    expect(closes.deliveries).not.toHaveBeenCalled()
    expect(closes.tasks).not.toHaveBeenCalled()
  })

  it("warns at start when Redis is configured but deliveries and history are in the node's embedded database", async () => {
    const warnings: string[] = []
    const recording = pino(
      { level: 'warn' },
      { write: (line: string) => warnings.push(JSON.parse(line).msg) },
    )
    const shared = parseConfig({ redis: { url: 'redis://127.0.0.1:6379' } })
    const { audit: _audit, ...given } = storesNeedingADatabase(shared)
    const embedded = parseConfig({ redis: { url: 'redis://127.0.0.1:6379' }, databaseUrl: 'memory://' })
    const opened = await openStores(embedded, given, { ...context, logger: recording })
    await opened.close()
    expect(
      warnings.filter((message) => message.includes('point databaseUrl at a shared PostgreSQL')),
    ).toHaveLength(1)
    // Without Redis, one node on its embedded database is the default set-up: nothing to warn of.
    warnings.length = 0
    const single = await openStores(parseConfig({ databaseUrl: 'memory://' }), given, {
      ...context,
      logger: recording,
    })
    await single.close()
    expect(warnings).toEqual([])
  })

  it('with the audit off records nothing and opens no database for the audit', async () => {
    const config = parseConfig({ ...memoryBackend, audit: { enabled: 'false' } })
    const { audit: _audit, ...given } = storesNeedingADatabase(config)
    const opened = await openStores(config, given, context)
    expect(opened.stores.database).toBeUndefined()
    opened.stores.audit.record({ kind: 'request', outcome: 'ok', principal: 'alice', target: 'echo' })
    await opened.stores.audit.flush()
    expect((await opened.stores.audit.query({ limit: 50 })).events).toEqual([])
    expect(opened.stores.audit.dropped).toBe(0)
    await opened.close()
  })

  it('opens the database and the default stores on it, and closes the database it opened', async () => {
    const config = parseConfig({ databaseUrl: 'memory://', delivery: { storeBackend: 'postgres' } })
    const opened = await openStores(config, {}, context)
    const database = opened.stores.database
    expect(database).toBeDefined()
    expect(opened.stores.deliveries.name).toBe('postgres')
    await opened.close()
    await expect(database?.db.execute(sql`select 1`)).rejects.toThrow()
  })
})

describe('createStoreSlot', () => {
  it('serves the injected stores before open and after close, the opened bundle in between', async () => {
    const config = parseConfig(memoryBackend)
    const given = storesNeedingADatabase(config)
    const slot = createStoreSlot(given)
    expect(slot.get('tokens')).toBe(given.tokenStore)
    expect(() => slot.require('state', 'the state store')).toThrow('the state store is not open yet')
    await slot.open(config, context)
    expect(slot.require('state', 'the state store')).toBeDefined()
    await slot.close()
    expect(slot.get('state')).toBeUndefined()
    expect(slot.get('tokens')).toBe(given.tokenStore)
  })
})
