import { describe, expect, it } from 'vitest'
import { defaultBackendOptions, publication } from './delivery-backend.fixture.js'
import { describeDeliveryStoreBehaviour } from './delivery-store.behaviour.js'
import { describeHistoryStoreBehaviour } from './history-store.behaviour.js'
import { createMemoryDeliveryBackend } from './memory-delivery-backend.js'

const memoryFixture = async () => ({
  // One backend is one store: a test that asks for several gets the same one.
  createBackend: (() => {
    let backend: ReturnType<typeof createMemoryDeliveryBackend> | undefined
    return async (options = {}) => {
      backend ??= createMemoryDeliveryBackend({ ...defaultBackendOptions, ...options })
      return backend
    }
  })(),
  teardown: async () => {},
})

describeHistoryStoreBehaviour('memory', memoryFixture)
describeDeliveryStoreBehaviour('memory', memoryFixture)

describe('createMemoryDeliveryBackend', () => {
  it('starts new epochs in a new backend, as after a restart', async () => {
    const before = createMemoryDeliveryBackend(defaultBackendOptions)
    const [outcome] = await before.history.publish([publication('alerts', 1)])
    const after = createMemoryDeliveryBackend(defaultBackendOptions)
    const position = await after.history.position('alerts')
    expect(position.offset).toBe(0)
    expect(position.epoch).not.toBe(outcome?.publication.epoch)
    expect(after.name).toBe('memory')
  })

  it('trims history on append, so memory stays bounded without trim()', async () => {
    const backend = createMemoryDeliveryBackend({
      ...defaultBackendOptions,
      retention: () => ({ size: 2, ttlMs: 60_000 }),
    })
    for (let index = 1; index <= 5; index += 1) await backend.history.publish([publication('bounded', index)])
    expect(await backend.history.trim(0)).toBe(0)
    const { epoch } = await backend.history.position('bounded')
    const read = await backend.history.readSince('bounded', { offset: 3, epoch }, 0)
    expect(read.recovered && read.publications.map((stored) => stored.offset)).toEqual([4, 5])
  })
})
