import { AddMcpServerRequest, type McpServerInfo, type UpstreamCredentials } from '@parley/protocol'
import { Command, InvalidArgumentError } from 'commander'
import { type AdminApiTarget, AdminCallError, call, formatTable, type Output } from './token-commands.js'

/**
 * `parley mcp add|list|remove`: upstream MCP servers, through a running gateway's admin API. Credentials go to
 * the gateway in the request body and are never printed (the gateway never shows them again either).
 */

export interface McpCommandDeps {
  /** Adds `--url` and `--admin-token`. */
  addAdminOptions: (command: Command) => Command
  adminTarget: (flags: { url: string; adminToken?: string }) => AdminApiTarget
  output: Output
  env: Record<string, string | undefined>
}

interface AddFlags {
  url: string
  adminToken?: string
  token?: string
  tokenEnv?: string
  header?: string
}

function parseHeader(value: string): { name: string; value: string } {
  const colon = value.indexOf(':')
  const name = colon === -1 ? '' : value.slice(0, colon).trim()
  const headerValue = colon === -1 ? '' : value.slice(colon + 1).trim()
  if (name === '' || headerValue === '')
    throw new InvalidArgumentError('expected Name:Value, such as X-Api-Key:abc')
  return { name, value: headerValue }
}

/** The credentials the flags ask for; at most one kind. */
export function credentialsOf(
  flags: AddFlags,
  env: Record<string, string | undefined>,
): UpstreamCredentials | undefined {
  const given = [flags.token, flags.tokenEnv, flags.header].filter((flag) => flag !== undefined)
  if (given.length > 1) throw new AdminCallError('pass one of --token, --token-env and --header')
  if (flags.token !== undefined) return { type: 'bearer', token: flags.token }
  if (flags.tokenEnv !== undefined) {
    const token = env[flags.tokenEnv]?.trim()
    if (token === undefined || token === '')
      throw new AdminCallError(`the environment variable ${flags.tokenEnv} is not set`)
    return { type: 'bearer', token }
  }
  if (flags.header !== undefined) return { type: 'header', ...parseHeader(flags.header) }
  return undefined
}

function describeHealth(server: McpServerInfo): string {
  const state = server.health.state
  return server.health.lastError === null ? state : `${state}: ${server.health.lastError}`
}

export async function addMcpServer(
  target: AdminApiTarget,
  request: AddMcpServerRequest,
  output: Output,
): Promise<void> {
  const server = await call(target, 'addMcpServer', { body: request })
  const lines = [
    `Registered MCP server ${server.name} (${server.health.url}), credentials ${server.credentials}`,
    `  health  ${describeHealth(server)}`,
  ]
  if (server.tools.length > 0) lines.push(`  tools   ${server.tools.map((tool) => tool.name).join(' ')}`)
  output.out(lines.join('\n'))
}

export async function listMcpServers(target: AdminApiTarget, output: Output): Promise<void> {
  const { servers } = await call(target, 'mcpServers')
  if (servers.length === 0) {
    output.out('No MCP servers.')
    return
  }
  output.out(
    formatTable([
      ['NAME', 'STATE', 'TOOLS', 'CREDENTIALS', 'URL'],
      ...servers.map((server) => [
        server.name,
        server.health.state,
        String(server.tools.length),
        server.credentials,
        server.health.url,
      ]),
    ]),
  )
  const errors = servers.filter((server) => server.health.lastError !== null)
  for (const server of errors) output.out(`${server.name}: ${server.health.lastError}`)
}

export async function removeMcpServer(target: AdminApiTarget, name: string, output: Output): Promise<void> {
  await call(target, 'removeMcpServer', { params: { name } })
  output.out(`Removed MCP server ${name}; its tools are gone.`)
}

export function buildMcpCommand(deps: McpCommandDeps): Command {
  const { addAdminOptions, adminTarget, output } = deps
  const mcp = new Command('mcp').description("upstream MCP servers, through a running gateway's admin API")
  addAdminOptions(
    mcp
      .command('add')
      .description('register an MCP server (Streamable HTTP); its tools become mcp:<name>__<tool>')
      .argument('<name>', 'lower-case letters, digits and -; the prefix of its tools')
      .argument('<serverUrl>', 'its Streamable HTTP endpoint, such as https://tools.example.com/mcp')
      .option(
        '--token <token>',
        'a bearer token Parley presents (prefer --token-env: flags show in the process list)',
      )
      .option('--token-env <variable>', 'read the bearer token from this environment variable')
      .option('--header <name:value>', 'a header Parley presents instead, such as X-Api-Key:abc'),
  ).action(async (name: string, serverUrl: string, flags: AddFlags) => {
    const credentials = credentialsOf(flags, deps.env)
    const parsed = AddMcpServerRequest.safeParse({
      name,
      url: serverUrl,
      ...(credentials === undefined ? {} : { credentials }),
    })
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`,
      )
      throw new AdminCallError(`invalid MCP server: ${problems.join('; ')}`)
    }
    await addMcpServer(adminTarget(flags), parsed.data, output)
  })
  addAdminOptions(mcp.command('list').description('registered MCP servers with their health')).action(
    (flags: { url: string; adminToken?: string }) => listMcpServers(adminTarget(flags), output),
  )
  addAdminOptions(
    mcp.command('remove').description('unregister an MCP server; its tools leave at once').argument('<name>'),
  ).action((name: string, flags: { url: string; adminToken?: string }) =>
    removeMcpServer(adminTarget(flags), name, output),
  )
  return mcp
}
