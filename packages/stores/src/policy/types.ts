/**
 * Contracts of the policy store: the rules deciding which principal may message, request, stream,
 * subscribe or publish to whom, a default effect for requests no rule matches, and a version that
 * increases on every change so each gateway node can tell that its cached copy is stale.
 *
 * Structural interfaces: a plain object with these methods works, no base class. Times are epoch
 * milliseconds; methods that write take `now` so tests control the clock.
 */

/** What a principal does to a target. */
export const POLICY_ACTIONS = ['message', 'request', 'stream', 'subscribe', 'publish'] as const
export type PolicyAction = (typeof POLICY_ACTIONS)[number]
/** A rule's actions: the routed actions, or `*` for all of them. */
export type PolicyRuleAction = PolicyAction | '*'

/**
 * What a rule decides: `require_introduction` allows only between parties holding a live grant (an
 * accepted introduction); the caller checks the grant, the policy only names the effect.
 */
export const POLICY_EFFECTS = ['allow', 'deny', 'require_introduction'] as const
export type PolicyEffect = (typeof POLICY_EFFECTS)[number]
/** The effect when no rule matches: a plain yes or no (an introduction needs a rule to name the parties). */
export const POLICY_DEFAULT_EFFECTS = ['allow', 'deny'] as const
export type PolicyDefaultEffect = (typeof POLICY_DEFAULT_EFFECTS)[number]

export const POLICY_SUBJECT_KINDS = ['principal', 'role', 'capability'] as const
export type PolicySubjectKind = (typeof POLICY_SUBJECT_KINDS)[number]

export const POLICY_TARGET_KINDS = ['principal', 'capability', 'channel'] as const
export type PolicyTargetKind = (typeof POLICY_TARGET_KINDS)[number]

/** `pattern` matches whole values; `*` matches any run of characters (also none), everything else is literal. */
export interface PolicySubject {
  kind: PolicySubjectKind
  pattern: string
}

export interface PolicyTarget {
  kind: PolicyTargetKind
  pattern: string
}

export interface PolicyRule {
  /** `pol_…` unless the creator chose one. */
  id: string
  description?: string
  effect: PolicyEffect
  /** At least one, no repeats. */
  actions: PolicyRuleAction[]
  subject: PolicySubject
  target: PolicyTarget
  /** Higher is evaluated first; an integer (32-bit). */
  priority: number
  createdAt: number
  updatedAt: number
}

export interface CreatePolicyRuleInput {
  /** Optional stable id (for rules seeded from configuration); generated when absent. */
  id?: string
  description?: string | null
  effect: PolicyEffect
  actions: readonly PolicyRuleAction[]
  subject: PolicySubject
  target: PolicyTarget
  /** Default 0. */
  priority?: number
}

/** Fields to change; `description: null` removes the description. */
export interface UpdatePolicyRuleInput {
  description?: string | null
  effect?: PolicyEffect
  actions?: readonly PolicyRuleAction[]
  subject?: PolicySubject
  target?: PolicyTarget
  priority?: number
}

/** Everything a node needs to evaluate requests, read at one point in time. */
export interface PolicySnapshot {
  version: number
  defaultEffect: PolicyDefaultEffect
  /** In evaluation order (see `comparePolicyRules`). */
  rules: PolicyRule[]
}

export interface PolicyStore {
  /**
   * Every rule, in evaluation order: priority descending, deny before require_introduction before allow,
   * then oldest first, then id.
   */
  list(): Promise<PolicyRule[]>
  get(id: string): Promise<PolicyRule | undefined>
  /**
   * Throws `InvalidPolicyRuleError` for a malformed rule and `PolicyRuleExistsError` when `input.id`
   * is taken. Bumps the version.
   */
  create(input: CreatePolicyRuleInput, now: number): Promise<PolicyRule>
  /** The updated rule, or undefined when there is no rule `id`. Bumps the version when it updates. */
  update(id: string, patch: UpdatePolicyRuleInput, now: number): Promise<PolicyRule | undefined>
  /** Resolves true when the rule existed and is now deleted (and the version bumped). */
  delete(id: string, now: number): Promise<boolean>
  /** The effect for requests no rule matches; the store's `defaultEffect` option until one is set. */
  getDefault(): Promise<PolicyDefaultEffect>
  /** Bumps the version when the default changes; setting the current default again is not a change. */
  setDefault(effect: PolicyDefaultEffect, now: number): Promise<void>
  /** 0 for a store never changed; increases by at least 1 on every change, never decreases. */
  version(): Promise<number>
  /** Version, default and rules, consistent with each other. */
  snapshot(): Promise<PolicySnapshot>
}

export interface PolicyStoreOptions {
  /** The default effect until `setDefault` is called. Default `deny` (no open doors by default). */
  defaultEffect?: PolicyDefaultEffect
}

/** What `evaluatePolicy` decides about. */
export interface PolicyRequest {
  action: PolicyAction
  /** Who acts: matched by rules of subject kind `principal`, `role` and `capability`. */
  subject: { principal: string; role?: string; capabilities?: readonly string[] }
  /**
   * What is acted on: a rule of target kind `principal` matches `principal`, `capability` matches any of
   * `capabilities` (the capability routed to, or those of the recipient), `channel` matches `channel`.
   */
  target: { principal?: string; capabilities?: readonly string[]; channel?: string }
}

export interface PolicyDecision {
  effect: PolicyEffect
  /** The deciding rule; undefined when no rule matched and the default decided. */
  rule: PolicyRule | undefined
}
