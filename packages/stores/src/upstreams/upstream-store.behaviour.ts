import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidUpstreamError, UpstreamExistsError } from '../errors.js'
import { T0 } from '../identity/identity-fixture.js'
import type { CreateUpstreamInput, UpstreamStore } from './types.js'

export interface UpstreamStoreFixture {
  /** A store on the fixture's (empty) storage; several calls share that storage, as nodes do. */
  createStore(): UpstreamStore
  teardown(): Promise<void>
}

const WEATHER: CreateUpstreamInput = {
  kind: 'a2a',
  id: 'weather',
  urls: ['http://127.0.0.1:9001/.well-known/agent-card.json', 'http://127.0.0.1:9002/'],
  credentials: { sealed: 'v1.sealed-bytes', kind: 'bearer' },
  settings: { note: 'from the card' },
}

/** The behaviour every UpstreamStore must show. */
export function describeUpstreamStoreBehaviour(
  label: string,
  setup: () => Promise<UpstreamStoreFixture>,
): void {
  describe(`UpstreamStore behaviour: ${label}`, () => {
    let fixture: UpstreamStoreFixture
    let upstreams: UpstreamStore

    beforeEach(async () => {
      fixture = await setup()
      upstreams = fixture.createStore()
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('starts empty at version 0', async () => {
      expect(await upstreams.list()).toEqual([])
      expect(await upstreams.version()).toBe(0)
      expect(await upstreams.get('a2a', 'weather')).toBeUndefined()
    })

    it('creates a record and returns it from get and list, the sealed credentials kept as given', async () => {
      const record = await upstreams.create(WEATHER, T0)
      expect(record).toEqual({
        kind: 'a2a',
        id: 'weather',
        urls: [...WEATHER.urls],
        credentials: 'v1.sealed-bytes',
        credentialsKind: 'bearer',
        settings: { note: 'from the card' },
        createdAt: T0,
        updatedAt: T0,
      })
      expect(await upstreams.get('a2a', 'weather')).toEqual(record)
      expect(await upstreams.list()).toEqual([record])
      expect(await upstreams.version()).toBeGreaterThan(0)
    })

    it('keeps one namespace per kind: the same id may be an a2a agent and an mcp server', async () => {
      const agent = await upstreams.create({ kind: 'a2a', id: 'docs', urls: ['http://a.example/'] }, T0)
      const server = await upstreams.create(
        { kind: 'mcp', id: 'docs', urls: ['http://m.example/mcp'] },
        T0 + 1,
      )
      expect(agent).toMatchObject({ credentials: null, credentialsKind: 'none', settings: {} })
      expect(await upstreams.list('a2a')).toEqual([agent])
      expect(await upstreams.list('mcp')).toEqual([server])
      expect(await upstreams.list()).toEqual([agent, server])
    })

    it('refuses a second upstream with the same kind and id with UpstreamExistsError, leaving the first', async () => {
      const first = await upstreams.create(WEATHER, T0)
      const version = await upstreams.version()
      await expect(
        upstreams.create({ ...WEATHER, urls: ['http://other.example/'] }, T0 + 1),
      ).rejects.toBeInstanceOf(UpstreamExistsError)
      expect(await upstreams.get('a2a', 'weather')).toEqual(first)
      expect(await upstreams.version()).toBe(version)
    })

    it('lists oldest first, then by kind and id', async () => {
      await upstreams.create({ kind: 'mcp', id: 'b', urls: ['http://b.example/'] }, T0 + 5)
      await upstreams.create({ kind: 'a2a', id: 'z', urls: ['http://z.example/'] }, T0)
      await upstreams.create({ kind: 'a2a', id: 'a', urls: ['http://a.example/'] }, T0)
      await upstreams.create({ kind: 'mcp', id: 'a', urls: ['http://a.example/'] }, T0)
      expect((await upstreams.list()).map((record) => `${record.kind}:${record.id}`)).toEqual([
        'a2a:a',
        'a2a:z',
        'mcp:a',
        'mcp:b',
      ])
    })

    it('updates urls, credentials and settings, bumping the version; null credentials remove them', async () => {
      await upstreams.create(WEATHER, T0)
      const before = await upstreams.version()
      const updated = await upstreams.update(
        'a2a',
        'weather',
        {
          urls: ['http://new.example/', 'http://new.example/'],
          credentials: { sealed: 'v1.other', kind: 'header' },
        },
        T0 + 10,
      )
      expect(updated).toMatchObject({
        urls: ['http://new.example/'],
        credentials: 'v1.other',
        credentialsKind: 'header',
        settings: { note: 'from the card' },
        createdAt: T0,
        updatedAt: T0 + 10,
      })
      expect(await upstreams.get('a2a', 'weather')).toEqual(updated)
      expect(await upstreams.version()).toBeGreaterThan(before)
      const cleared = await upstreams.update('a2a', 'weather', { credentials: null, settings: {} }, T0 + 20)
      expect(cleared).toMatchObject({ credentials: null, credentialsKind: 'none', settings: {} })
      expect(await upstreams.update('a2a', 'missing', { urls: ['http://x.example/'] }, T0)).toBeUndefined()
    })

    it('deletes a record once, bumping the version', async () => {
      await upstreams.create(WEATHER, T0)
      const before = await upstreams.version()
      expect(await upstreams.delete('a2a', 'weather')).toBe(true)
      expect(await upstreams.version()).toBeGreaterThan(before)
      const after = await upstreams.version()
      expect(await upstreams.delete('a2a', 'weather')).toBe(false)
      expect(await upstreams.version()).toBe(after)
      expect(await upstreams.get('a2a', 'weather')).toBeUndefined()
      expect(await upstreams.list()).toEqual([])
    })

    it('shows a change made through one store to another store on the same storage (another node)', async () => {
      const other = fixture.createStore()
      const seen = await other.version()
      const record = await upstreams.create(WEATHER, T0)
      expect(await other.version()).toBeGreaterThan(seen)
      expect(await other.get('a2a', 'weather')).toEqual(record)
    })

    it('never shares its records with the caller: changing a returned record changes nothing stored', async () => {
      const record = await upstreams.create(WEATHER, T0)
      record.urls.push('http://mutated.example/')
      record.settings.note = 'mutated'
      const read = await upstreams.get('a2a', 'weather')
      expect(read?.urls).toEqual([...WEATHER.urls])
      expect(read?.settings).toEqual({ note: 'from the card' })
    })

    it.each([
      ['kind', { ...WEATHER, kind: 'grpc' as never }],
      ['id', { ...WEATHER, id: '' }],
      ['id', { ...WEATHER, id: 'a b' }],
      ['id', { ...WEATHER, id: 'x'.repeat(129) }],
      ['urls', { ...WEATHER, urls: [] }],
      ['urls', { ...WEATHER, urls: ['ftp://x.example/'] }],
      ['urls', { ...WEATHER, urls: [`http://x.example/${'a'.repeat(2_100)}`] }],
      ['urls', { ...WEATHER, urls: Array.from({ length: 17 }, (_, index) => `http://x${index}.example/`) }],
      ['credentials', { ...WEATHER, credentials: { sealed: '', kind: 'bearer' as const } }],
      ['credentials', { ...WEATHER, credentials: { sealed: 'x', kind: 'none' as never } }],
      ['settings', { ...WEATHER, settings: [] as never }],
      ['settings', { ...WEATHER, settings: { big: 'x'.repeat(20_000) } }],
    ])('refuses a record with a bad %s with InvalidUpstreamError, storing nothing', async (field, input) => {
      const refused = await upstreams.create(input, T0).catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(InvalidUpstreamError)
      expect((refused as InvalidUpstreamError).field).toBe(field)
      expect(await upstreams.list()).toEqual([])
      expect(await upstreams.version()).toBe(0)
    })
  })
}
