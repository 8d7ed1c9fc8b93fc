import { eq, sql } from 'drizzle-orm'
import type { ParleyDatabase, ParleyExecutor, ParleyTransaction } from '../database.js'
import { PolicyRuleExistsError } from '../errors.js'
import { type PolicyRuleRow, policyRules, policySettings } from '../schema.js'
import { comparePolicyRules } from './evaluate-policy.js'
import {
  checkDefaultEffect,
  newPolicyRule,
  patchPolicyRule,
  resolvePolicyStoreOptions,
} from './policy-rules.js'
import type {
  PolicyDefaultEffect,
  PolicyEffect,
  PolicyRule,
  PolicyRuleAction,
  PolicyStore,
  PolicyStoreOptions,
  PolicySubject,
  PolicyTarget,
} from './types.js'

const SETTINGS_ID = 'global'

function toRule(row: PolicyRuleRow): PolicyRule {
  const rule: PolicyRule = {
    id: row.id,
    effect: row.effect as PolicyEffect,
    actions: row.actions as PolicyRuleAction[],
    subject: { kind: row.subjectKind as PolicySubject['kind'], pattern: row.subjectPattern },
    target: { kind: row.targetKind as PolicyTarget['kind'], pattern: row.targetPattern },
    priority: row.priority,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
  if (row.description !== null) rule.description = row.description
  return rule
}

function toRow(rule: PolicyRule): PolicyRuleRow {
  return {
    id: rule.id,
    description: rule.description ?? null,
    effect: rule.effect,
    actions: [...rule.actions],
    subjectKind: rule.subject.kind,
    subjectPattern: rule.subject.pattern,
    targetKind: rule.target.kind,
    targetPattern: rule.target.pattern,
    priority: rule.priority,
    createdAt: rule.createdAt,
    updatedAt: rule.updatedAt,
  }
}

/**
 * Policy rules in `policy_rules`, default effect and version in the one `policy_settings` row. Every
 * change bumps the version in its own transaction (creating the row on the first change): the row lock
 * orders concurrent changes from every node, and a change that fails rolls its bump back.
 */
export function createPostgresPolicyStore(
  database: ParleyDatabase,
  options: PolicyStoreOptions = {},
): PolicyStore {
  const { defaultEffect: initialDefault } = resolvePolicyStoreOptions(options)
  const { db } = database

  async function bumpVersion(
    tx: ParleyTransaction,
    now: number,
    defaultEffect?: PolicyDefaultEffect,
  ): Promise<void> {
    await tx
      .insert(policySettings)
      .values({ id: SETTINGS_ID, defaultEffect: defaultEffect ?? initialDefault, version: 1, updatedAt: now })
      .onConflictDoUpdate({
        target: policySettings.id,
        set: {
          version: sql`${policySettings.version} + 1`,
          updatedAt: now,
          ...(defaultEffect === undefined ? {} : { defaultEffect }),
        },
      })
  }

  async function readSettings(
    on: ParleyExecutor,
  ): Promise<{ version: number; defaultEffect: PolicyDefaultEffect }> {
    const [row] = await on.select().from(policySettings).where(eq(policySettings.id, SETTINGS_ID))
    return row === undefined
      ? { version: 0, defaultEffect: initialDefault }
      : { version: row.version, defaultEffect: row.defaultEffect as PolicyDefaultEffect }
  }

  async function readRules(on: ParleyExecutor): Promise<PolicyRule[]> {
    // Few rows; sorting them here with the same comparator as `evaluatePolicy` keeps one order everywhere.
    const rows = await on.select().from(policyRules)
    return rows.map(toRule).sort(comparePolicyRules)
  }

  return {
    list: () => readRules(db),

    async get(id) {
      const [row] = await db.select().from(policyRules).where(eq(policyRules.id, id))
      return row === undefined ? undefined : toRule(row)
    },

    async create(input, now) {
      const rule = newPolicyRule(input, now)
      return db.transaction(async (tx) => {
        const inserted = await tx
          .insert(policyRules)
          .values(toRow(rule))
          .onConflictDoNothing()
          .returning({ id: policyRules.id })
        if (inserted.length === 0) throw new PolicyRuleExistsError(rule.id)
        await bumpVersion(tx, now)
        return rule
      })
    },

    // Lock order in every change: the rule's row, then the settings row (never the other way round).
    async update(id, patch, now) {
      return db.transaction(async (tx) => {
        const [row] = await tx.select().from(policyRules).where(eq(policyRules.id, id)).for('update')
        if (row === undefined) return undefined
        const next = patchPolicyRule(toRule(row), patch, now)
        const { id: _id, createdAt: _createdAt, ...changes } = toRow(next)
        await tx.update(policyRules).set(changes).where(eq(policyRules.id, id))
        await bumpVersion(tx, now)
        return next
      })
    },

    async delete(id, now) {
      return db.transaction(async (tx) => {
        const deleted = await tx
          .delete(policyRules)
          .where(eq(policyRules.id, id))
          .returning({ id: policyRules.id })
        if (deleted.length === 0) return false
        await bumpVersion(tx, now)
        return true
      })
    },

    async getDefault() {
      return (await readSettings(db)).defaultEffect
    },

    async setDefault(effect, now) {
      checkDefaultEffect(effect)
      await db.transaction(async (tx) => {
        // Lock the row (if any) before comparing, so two nodes setting the same default bump once.
        const [row] = await tx
          .select()
          .from(policySettings)
          .where(eq(policySettings.id, SETTINGS_ID))
          .for('update')
        const current = (row?.defaultEffect as PolicyDefaultEffect | undefined) ?? initialDefault
        if (current === effect) return
        await bumpVersion(tx, now, effect)
      })
    },

    async version() {
      return (await readSettings(db)).version
    },

    snapshot() {
      // Repeatable read: the version, default and rules all come from the same moment.
      return db.transaction(
        async (tx) => {
          const settings = await readSettings(tx)
          return { ...settings, rules: await readRules(tx) }
        },
        { isolationLevel: 'repeatable read', accessMode: 'read only' },
      )
    },
  }
}
