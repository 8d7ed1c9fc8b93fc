import type { AgentAccess } from './types.js'

/** Everyone may do everything: the access of a gateway built without policies, and the default of tests. */
export const ALLOW_ALL_ACCESS: AgentAccess = { check: () => ({ allowed: true, effect: 'default' }) }
