import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InvalidPolicyRuleError, PolicyRuleExistsError } from '../errors.js'
import { HOSTILE_NAMES, T0 } from '../identity/identity-fixture.js'
import type { CreatePolicyRuleInput, PolicyStore, PolicyStoreOptions } from './types.js'

export interface PolicyStoreFixture {
  /** A store on the fixture's (empty) storage; several calls share that storage. */
  createStore(options?: PolicyStoreOptions): PolicyStore
  teardown(): Promise<void>
}

const ALLOW_PLANNER: CreatePolicyRuleInput = {
  description: 'planner may message workers',
  effect: 'allow',
  actions: ['message', 'request'],
  subject: { kind: 'principal', pattern: 'planner' },
  target: { kind: 'capability', pattern: 'worker.*' },
  priority: 10,
}

/** The behaviour every PolicyStore must show. */
export function describePolicyStoreBehaviour(label: string, setup: () => Promise<PolicyStoreFixture>): void {
  describe(`PolicyStore behaviour: ${label}`, () => {
    let fixture: PolicyStoreFixture
    let policies: PolicyStore

    beforeEach(async () => {
      fixture = await setup()
      policies = fixture.createStore()
    })

    afterEach(async () => {
      await fixture.teardown()
    })

    it('starts empty at version 0 with deny as the default effect unless configured otherwise', async () => {
      expect(await policies.list()).toEqual([])
      expect(await policies.version()).toBe(0)
      expect(await policies.getDefault()).toBe('deny')
      expect(await fixture.createStore({ defaultEffect: 'allow' }).getDefault()).toBe('allow')
      expect(await policies.snapshot()).toEqual({ version: 0, defaultEffect: 'deny', rules: [] })
    })

    it('creates a rule with a generated id, normalised, and returns it from get and list', async () => {
      const rule = await policies.create({ ...ALLOW_PLANNER, actions: ['message', 'request', 'message'] }, T0)
      expect(rule).toEqual({
        id: expect.stringMatching(/^pol_[A-Za-z0-9_-]{16}$/),
        description: 'planner may message workers',
        effect: 'allow',
        actions: ['message', 'request'],
        subject: { kind: 'principal', pattern: 'planner' },
        target: { kind: 'capability', pattern: 'worker.*' },
        priority: 10,
        createdAt: T0,
        updatedAt: T0,
      })
      expect(await policies.get(rule.id)).toEqual(rule)
      expect(await policies.list()).toEqual([rule])
      expect(await policies.get('pol_missing')).toBeUndefined()

      const plain = await policies.create(
        {
          effect: 'deny',
          actions: ['*'],
          subject: { kind: 'role', pattern: 'client' },
          target: { kind: 'channel', pattern: '*' },
        },
        T0 + 1,
      )
      expect(plain.priority).toBe(0)
      expect(plain).not.toHaveProperty('description')
      expect(await policies.get(plain.id)).toEqual(plain)
    })

    it('keeps a chosen id and refuses a second rule with it with PolicyRuleExistsError, without a version bump', async () => {
      const first = await policies.create({ ...ALLOW_PLANNER, id: 'seed-1' }, T0)
      expect(first.id).toBe('seed-1')
      const error = await policies
        .create({ ...ALLOW_PLANNER, id: 'seed-1', effect: 'deny' }, T0 + 1)
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(PolicyRuleExistsError)
      expect(error).toMatchObject({ code: 'conflict', ruleId: 'seed-1' })
      expect(await policies.get('seed-1')).toEqual(first)
      expect(await policies.version()).toBe(1)
    })

    it('refuses malformed rules with InvalidPolicyRuleError naming the field, and changes nothing', async () => {
      const bad: [string, CreatePolicyRuleInput][] = [
        ['actions', { ...ALLOW_PLANNER, actions: [] }],
        ['actions', { ...ALLOW_PLANNER, actions: ['send' as 'message'] }],
        ['effect', { ...ALLOW_PLANNER, effect: 'maybe' as 'allow' }],
        ['subject.kind', { ...ALLOW_PLANNER, subject: { kind: 'channel' as 'role', pattern: 'x' } }],
        ['target.kind', { ...ALLOW_PLANNER, target: { kind: 'role' as 'channel', pattern: 'x' } }],
        ['subject.pattern', { ...ALLOW_PLANNER, subject: { kind: 'principal', pattern: '' } }],
        ['target.pattern', { ...ALLOW_PLANNER, target: { kind: 'channel', pattern: 'a\u0000b' } }],
        ['target.pattern', { ...ALLOW_PLANNER, target: { kind: 'channel', pattern: 'x'.repeat(513) } }],
        ['priority', { ...ALLOW_PLANNER, priority: 1.5 }],
        ['priority', { ...ALLOW_PLANNER, priority: 2 ** 31 }],
        ['id', { ...ALLOW_PLANNER, id: '' }],
        ['description', { ...ALLOW_PLANNER, description: '' }],
      ]
      for (const [field, input] of bad) {
        const error = await policies.create(input, T0).catch((caught: unknown) => caught)
        expect(error, field).toBeInstanceOf(InvalidPolicyRuleError)
        expect(error, field).toMatchObject({ code: 'bad_request', field })
      }
      expect(await policies.list()).toEqual([])
      expect(await policies.version()).toBe(0)
    })

    it('updates the given fields, keeps createdAt, sets updatedAt, and removes the description with null', async () => {
      const rule = await policies.create(ALLOW_PLANNER, T0)
      const updated = await policies.update(
        rule.id,
        { effect: 'deny', priority: -5, target: { kind: 'principal', pattern: 'db-*' }, description: null },
        T0 + 1_000,
      )
      const expected = {
        id: rule.id,
        effect: 'deny',
        actions: ['message', 'request'],
        subject: { kind: 'principal', pattern: 'planner' },
        target: { kind: 'principal', pattern: 'db-*' },
        priority: -5,
        createdAt: T0,
        updatedAt: T0 + 1_000,
      }
      expect(updated).toEqual(expected)
      expect(await policies.get(rule.id)).toEqual(expected)
      expect(await policies.version()).toBe(2)
    })

    it('answers undefined for an update of an unknown rule and refuses an invalid patch, without a version bump', async () => {
      const rule = await policies.create(ALLOW_PLANNER, T0)
      expect(await policies.update('pol_missing', { effect: 'deny' }, T0 + 1)).toBeUndefined()
      await expect(policies.update(rule.id, { actions: [] }, T0 + 1)).rejects.toMatchObject({
        name: 'InvalidPolicyRuleError',
        field: 'actions',
      })
      expect(await policies.get(rule.id)).toEqual(rule)
      expect(await policies.version()).toBe(1)
    })

    it('deletes a rule once and bumps the version only when something was deleted', async () => {
      const rule = await policies.create(ALLOW_PLANNER, T0)
      expect(await policies.delete(rule.id, T0 + 1)).toBe(true)
      expect(await policies.get(rule.id)).toBeUndefined()
      expect(await policies.version()).toBe(2)
      expect(await policies.delete(rule.id, T0 + 2)).toBe(false)
      expect(await policies.version()).toBe(2)
    })

    it('increases the version on every change, and not when the default is set to what it already is', async () => {
      const versions = [await policies.version()]
      const rule = await policies.create(ALLOW_PLANNER, T0)
      versions.push(await policies.version())
      await policies.update(rule.id, { priority: 3 }, T0 + 1)
      versions.push(await policies.version())
      await policies.setDefault('allow', T0 + 2)
      versions.push(await policies.version())
      expect(await policies.getDefault()).toBe('allow')
      await policies.setDefault('allow', T0 + 3)
      expect(await policies.version()).toBe(versions.at(-1))
      await policies.delete(rule.id, T0 + 4)
      versions.push(await policies.version())
      for (let index = 1; index < versions.length; index++) {
        expect(versions[index]).toBeGreaterThan(versions[index - 1] ?? Number.POSITIVE_INFINITY)
      }
      await expect(policies.setDefault('open' as 'allow', T0 + 5)).rejects.toBeInstanceOf(
        InvalidPolicyRuleError,
      )
    })

    it('shares rules, default and version between store instances on the same storage', async () => {
      const rule = await policies.create(ALLOW_PLANNER, T0)
      await policies.setDefault('allow', T0 + 1)
      const other = fixture.createStore()
      expect(await other.snapshot()).toEqual({ version: 2, defaultEffect: 'allow', rules: [rule] })
    })

    it('lists rules in evaluation order: priority descending, deny before allow, then oldest, then id', async () => {
      const base = {
        actions: ['*'],
        subject: { kind: 'principal', pattern: '*' },
        target: { kind: 'channel', pattern: '*' },
      } as const
      await policies.create({ ...base, id: 'low', effect: 'deny', priority: -1 }, T0)
      await policies.create({ ...base, id: 'allow-old', effect: 'allow', priority: 5 }, T0)
      await policies.create({ ...base, id: 'deny-new', effect: 'deny', priority: 5 }, T0 + 10)
      await policies.create({ ...base, id: 'b-same-time', effect: 'allow', priority: 5 }, T0 + 1)
      await policies.create({ ...base, id: 'a-same-time', effect: 'allow', priority: 5 }, T0 + 1)
      await policies.create({ ...base, id: 'high', effect: 'allow', priority: 100 }, T0 + 20)
      const order = ['high', 'deny-new', 'allow-old', 'a-same-time', 'b-same-time', 'low']
      expect((await policies.list()).map((rule) => rule.id)).toEqual(order)
      expect((await policies.snapshot()).rules.map((rule) => rule.id)).toEqual(order)
    })

    it('keeps require_introduction rules, ordered after deny and before allow at equal priority', async () => {
      const base = {
        actions: ['message'],
        subject: { kind: 'role', pattern: 'agent' },
        target: { kind: 'capability', pattern: 'billing.*' },
        priority: 3,
      } as const
      await policies.create({ ...base, id: 'allow', effect: 'allow' }, T0)
      const introduce = await policies.create(
        { ...base, id: 'introduce', effect: 'require_introduction' },
        T0 + 1,
      )
      await policies.create({ ...base, id: 'deny', effect: 'deny' }, T0 + 2)
      expect(introduce.effect).toBe('require_introduction')
      expect(await policies.get('introduce')).toEqual(introduce)
      expect((await policies.list()).map((rule) => rule.id)).toEqual(['deny', 'introduce', 'allow'])
      const updated = await policies.update('allow', { effect: 'require_introduction' }, T0 + 3)
      expect(updated?.effect).toBe('require_introduction')
    })

    it('refuses require_introduction as the default effect', async () => {
      await expect(policies.setDefault('require_introduction' as 'allow', T0)).rejects.toMatchObject({
        name: 'InvalidPolicyRuleError',
        field: 'defaultEffect',
      })
      expect(await policies.getDefault()).toBe('deny')
      expect(await policies.version()).toBe(0)
    })

    it('bumps the version once for each of concurrent changes', async () => {
      const created = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          policies.create({ ...ALLOW_PLANNER, id: `rule-${index}` }, T0),
        ),
      )
      expect(await policies.version()).toBe(12)
      await Promise.all(created.map((rule, index) => policies.update(rule.id, { priority: index }, T0 + 1)))
      expect(await policies.version()).toBe(24)
      expect(await policies.list()).toHaveLength(12)
    })

    it('stores ids, descriptions and patterns that look like HTML, SQL or regular expressions verbatim', async () => {
      const texts = [...HOSTILE_NAMES, '^(a+)+$ [x] {2} \\d? |.', "'; DELETE FROM policy_rules; --"]
      for (const [index, text] of texts.entries()) {
        const rule = await policies.create(
          {
            id: text,
            description: text,
            effect: 'allow',
            actions: ['publish'],
            subject: { kind: 'capability', pattern: text },
            target: { kind: 'channel', pattern: text },
            priority: index,
          },
          T0,
        )
        expect(await policies.get(text)).toEqual(rule)
        expect(rule).toMatchObject({
          id: text,
          description: text,
          subject: { pattern: text },
          target: { pattern: text },
        })
      }
      expect(await policies.list()).toHaveLength(texts.length)
    })
  })
}
