import type { A2aAgentInfo, UpstreamCredentials } from '@parley/protocol'
import { Command } from 'commander'
import { credentialsOf, type McpCommandDeps } from './mcp-commands.js'
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
  const added = await call(target, 'addA2aAgent', { body: input })
  output.out(describe(added))
}

export async function listA2aAgents(target: AdminApiTarget, output: Output): Promise<void> {
  const { agents } = await call(target, 'a2aAgents')
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
  await call(target, 'removeA2aAgent', { params: { agentId } })
  output.out(`Removed external A2A agent ${agentId}; its instances left the gateway.`)
}

/** `parley agents …`: what it needs from the CLI, as `parley mcp` does. */
export type AgentsCommandDeps = McpCommandDeps

export function buildAgentsCommand(deps: AgentsCommandDeps): Command {
  const { addAdminOptions, adminTarget, output } = deps
  const agents = new Command('agents').description(
    "external A2A agents, through a running gateway's admin API",
  )
  addAdminOptions(
    agents
      .command('add-a2a')
      .description('register an external A2A agent by its card URLs or base URLs (several: instances)')
      .argument('<url...>', 'card URL (…/.well-known/agent-card.json) or base URL of each instance')
      .option('--agent-id <id>', 'the Parley agent id (default: made from the card name)')
      .option(
        '--token <token>',
        'a bearer token Parley presents to the agent (prefer --token-env: flags show in the process list)',
      )
      .option('--token-env <variable>', 'read the bearer token from this environment variable')
      .option('--header <name:value>', 'a header Parley presents instead, such as X-Api-Key:abc'),
  ).action(
    (
      urls: string[],
      flags: {
        url: string
        adminToken?: string
        agentId?: string
        token?: string
        tokenEnv?: string
        header?: string
      },
    ) => {
      const credentials = credentialsOf(flags, deps.env)
      return addA2aAgent(
        adminTarget(flags),
        {
          urls,
          ...(flags.agentId === undefined ? {} : { agentId: flags.agentId }),
          ...(credentials === undefined ? {} : { credentials }),
        },
        output,
      )
    },
  )
  addAdminOptions(
    agents.command('list-a2a').description('external A2A agents and the health of each instance'),
  ).action((flags: { url: string; adminToken?: string }) => listA2aAgents(adminTarget(flags), output))
  addAdminOptions(
    agents.command('remove-a2a').description('remove an external A2A agent').argument('<agentId>'),
  ).action((agentId: string, flags: { url: string; adminToken?: string }) =>
    removeA2aAgent(adminTarget(flags), agentId, output),
  )
  return agents
}
