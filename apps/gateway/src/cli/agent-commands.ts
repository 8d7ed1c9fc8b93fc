import {
  type A2aAgentInfo,
  A2aAgentInfo as A2aAgentInfoSchema,
  A2aAgentList,
  type UpstreamCredentials,
} from '@parley/protocol'
import { z } from 'zod'
import { type AdminApiTarget, call, formatTable, type Output } from './token-commands.js'

/**
 * `parley agents add-a2a|list-a2a|remove-a2a`: external A2A agents through a running gateway's admin API. The
 * credentials given for the agent go in the request body only and are never printed (answers name their kind).
 */

function describe(agent: A2aAgentInfo): string {
  const lines = [
    `External A2A agent ${agent.agentId}${agent.name === null ? '' : ` (${agent.name})`}`,
    `  capabilities  ${agent.capabilities.join(' ') || '(none yet)'}`,
    `  signature     ${agent.signatureVerified === null ? 'none' : agent.signatureVerified ? 'verified' : 'does not verify'}`,
    `  credentials   ${agent.credentials}`,
  ]
  for (const instance of agent.instances) {
    lines.push(
      `  ${instance.state.padEnd(7)} ${instance.url}${instance.lastError === null ? '' : `  (${instance.lastError})`}`,
    )
  }
  return lines.join('\n')
}

export async function addA2aAgent(
  target: AdminApiTarget,
  input: { urls: string[]; agentId?: string; credentials?: UpstreamCredentials },
  output: Output,
): Promise<void> {
  const added = await call(target, 'POST', '/api/admin/a2a/agents', A2aAgentInfoSchema, input)
  output.out(describe(added))
}

export async function listA2aAgents(target: AdminApiTarget, output: Output): Promise<void> {
  const { agents } = await call(target, 'GET', '/api/admin/a2a/agents', A2aAgentList)
  if (agents.length === 0) {
    output.out('No external A2A agents.')
    return
  }
  const rows = [
    ['AGENT', 'INSTANCES', 'SIGNATURE', 'CREDENTIALS', 'CAPABILITIES'],
    ...agents.map((agent) => [
      agent.agentId,
      agent.instances.map((instance) => `${instance.state}:${instance.url}`).join(' '),
      agent.signatureVerified === null ? '-' : agent.signatureVerified ? 'verified' : 'bad',
      agent.credentials,
      agent.capabilities.join(' ') || '-',
    ]),
  ]
  output.out(formatTable(rows))
}

export async function removeA2aAgent(target: AdminApiTarget, agentId: string, output: Output): Promise<void> {
  await call(target, 'DELETE', `/api/admin/a2a/agents/${encodeURIComponent(agentId)}`, z.undefined())
  output.out(`Removed external A2A agent ${agentId}; its instances left the gateway.`)
}
