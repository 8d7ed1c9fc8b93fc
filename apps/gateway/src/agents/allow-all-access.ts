import type { AgentAccess } from './types.js'

/** Lets everything through: the gateway's access until policies and grants are wired in. */
export const allowAllAccess: AgentAccess = {
  check: () => ({ allowed: true, effect: 'default' }),
}
