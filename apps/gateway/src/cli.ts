#!/usr/bin/env node
import { createRequire } from 'node:module'
import { Health, ROLES } from '@parley/protocol'
import { Command, InvalidArgumentError } from 'commander'
import { type Logger, pino } from 'pino'
import { buildAgentsCommand } from './cli/agent-commands.js'
import { buildAuditCommand } from './cli/audit-commands.js'
import { buildMcpCommand } from './cli/mcp-commands.js'
import { buildMigrateCommand } from './cli/migrate-command.js'
import {
  approveDevice,
  approvePairing,
  denyDevice,
  denyPairing,
  listDevices,
  listPairing,
  revokePairing,
} from './cli/pairing-commands.js'
import { startBanner } from './cli/start-banner.js'
import {
  type AdminApiTarget,
  AdminCallError,
  createToken,
  listTokens,
  type Output,
  revokeToken,
} from './cli/token-commands.js'
import { ConfigError, type GatewayConfig, parseConfig } from './config.js'
import { createGateway, GATEWAY_VERSION } from './create-gateway.js'
import { mergeConfigInputs, readEnvConfig, readEnvValue, toConfigInput } from './env.js'

/**
 * The `parley` command. The only module that reads `process.env` and `process.argv` and exits the process.
 */

interface ServeFlags {
  host?: string
  port?: string
  authToken?: string
  allowAnonymous?: string
  adminToken?: string
  databaseUrl?: string
  dataDir?: string
  sslCert?: string
  sslKey?: string
  maxConnections?: string
  heartbeatInterval?: string
  maxPayload?: string
  storeBackend?: string
  redisUrl?: string
  nodeId?: string
  agentTimeout?: string
}

function write(stream: NodeJS.WriteStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`)
}

/** Pretty logs for a person at a terminal, JSON lines everywhere else (and always in production). */
function createCliLogger(config: GatewayConfig): Logger {
  const pretty = process.stdout.isTTY === true && process.env.NODE_ENV !== 'production' && hasPinoPretty()
  return pino({
    level: config.logLevel,
    // Defence in depth: tokens are never logged on purpose, and these paths are scrubbed if one slips in.
    redact: [
      'authToken',
      'adminToken',
      'token',
      'req.headers.authorization',
      'headers.authorization',
      // Upstream credentials (external A2A agents, MCP servers) and the key they are sealed with.
      'credentials',
      '*.credentials',
      'secretKey',
      '*.secretKey',
    ],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  })
}

function hasPinoPretty(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}

async function serve(flags: ServeFlags): Promise<void> {
  const flagInput = toConfigInput({
    host: flags.host,
    port: flags.port,
    authToken: flags.authToken,
    allowAnonymous: flags.allowAnonymous,
    adminToken: flags.adminToken,
    databaseUrl: flags.databaseUrl,
    dataDir: flags.dataDir,
    sslCert: flags.sslCert,
    sslKey: flags.sslKey,
    maxConnections: flags.maxConnections,
    heartbeatInterval: flags.heartbeatInterval,
    maxPayload: flags.maxPayload,
    'delivery.storeBackend': flags.storeBackend,
    'redis.url': flags.redisUrl,
    nodeId: flags.nodeId,
    agentTimeout: flags.agentTimeout,
  })
  const config = parseConfig(mergeConfigInputs(readEnvConfig(process.env), flagInput))
  const logger = createCliLogger(config)
  const gateway = createGateway({ config, logger })

  let stopping = false
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without finishing the drain')
      process.exit(1)
    }
    stopping = true
    logger.info({ signal }, 'signal received, draining')
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed')
        process.exit(1)
      },
    )
  }
  // Installed before start(): a signal while the database opens must still drain and exit 0, not kill the
  // process half-way through start-up.
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)

  const started = await gateway.start()
  // Printed straight to stdout, never through the logger, so a generated token does not end up in log storage.
  write(
    process.stdout,
    startBanner({
      dashboardUrl: config.dashboardUrl,
      adminTokenConfigured: config.adminToken !== undefined,
      gatewayUrl: started.url,
      generatedAdminToken: started.generatedAdminToken,
    }),
  )
}

function formatDuration(seconds: number): string {
  const total = Math.floor(seconds)
  const parts = [
    [Math.floor(total / 86_400), 'd'],
    [Math.floor((total % 86_400) / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ] as const
  const shown = parts.filter(([value]) => value > 0).map(([value, unit]) => `${value}${unit}`)
  return shown.length > 0 ? shown.join(' ') : '0s'
}

async function status(options: { url: string }): Promise<void> {
  const base = options.url.replace(/\/$/, '')
  let health: Health
  try {
    const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) })
    health = Health.parse(await response.json())
  } catch (error) {
    const reason =
      error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : ''
    write(process.stderr, `Parley gateway at ${base} is unreachable${reason ? `: ${reason}` : ''}`)
    process.exitCode = 1
    return
  }
  write(
    process.stdout,
    [
      `Parley gateway at ${base}`,
      `  status       ${health.status}`,
      `  version      ${health.version}`,
      `  uptime       ${formatDuration(health.uptime_s)}`,
      `  connections  ${health.connections}`,
      `  agents       ${health.connected_agents}`,
      `  checked at   ${health.timestamp}`,
    ].join('\n'),
  )
  if (health.status !== 'ok') process.exitCode = 2
}

function parseUrl(value: string): string {
  try {
    return new URL(value).toString()
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8765')
  }
}

const output: Output = {
  out: (text) => write(process.stdout, text),
  err: (text) => write(process.stderr, text),
}

interface AdminFlags {
  url: string
  adminToken?: string
}

/**
 * Where the admin commands go; the token comes from the flag, PARLEY_ADMIN_TOKEN or the file PARLEY_ADMIN_TOKEN_FILE
 * names, and is never printed.
 */
function adminTarget(flags: AdminFlags): AdminApiTarget {
  let adminToken: string | undefined
  try {
    adminToken = flags.adminToken ?? readEnvValue(process.env, 'PARLEY_ADMIN_TOKEN')
  } catch (error) {
    throw new AdminCallError(error instanceof Error ? error.message : String(error))
  }
  if (adminToken === undefined || adminToken.trim() === '') {
    throw new AdminCallError(
      'an admin token is required: set PARLEY_ADMIN_TOKEN (or PARLEY_ADMIN_TOKEN_FILE) or pass --admin-token <token>',
    )
  }
  return { url: flags.url, adminToken: adminToken.trim() }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function parseRole(value: string): string {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${ROLES.join(', ')}`)
  }
  return value
}

function parsePositiveInt(value: string): number {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a positive whole number')
  return parsed
}

function addAdminOptions(command: Command): Command {
  return command
    .option('--url <url>', 'gateway base URL', parseUrl, 'http://127.0.0.1:8765')
    .option(
      '--admin-token <token>',
      'admin token (prefer PARLEY_ADMIN_TOKEN: flags show in the process list)',
    )
}

function buildTokenCommand(): Command {
  const token = new Command('token').description("manage API tokens through a running gateway's admin API")
  addAdminOptions(
    token
      .command('create')
      .description('create a token and print its secret once')
      .requiredOption('--name <name>', 'what the token is for')
      .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, parseRole)
      .option('--scope <scope>', 'a scope such as publish:alerts.* (repeatable)', collect, [] as string[])
      .option('--expires-in <seconds>', 'lifetime in seconds (default: no expiry)', parsePositiveInt),
  ).action((flags: AdminFlags & { name: string; role: string; scope: string[]; expiresIn?: number }) =>
    createToken(
      adminTarget(flags),
      {
        name: flags.name,
        role: flags.role,
        scopes: flags.scope,
        ...(flags.expiresIn === undefined ? {} : { expiresIn: flags.expiresIn }),
      },
      output,
    ),
  )
  addAdminOptions(token.command('list').description('list tokens (never their secrets)')).action(
    (flags: AdminFlags) => listTokens(adminTarget(flags), output),
  )
  addAdminOptions(
    token.command('revoke').description('revoke a token and close its open connections').argument('<id>'),
  ).action((id: string, flags: AdminFlags) => revokeToken(adminTarget(flags), id, output))
  return token
}

function buildPairingCommand(): Command {
  const pairing = new Command('pairing').description(
    "chat-user pairing for connectors, through a running gateway's admin API",
  )
  addAdminOptions(pairing.command('list').description('pending requests and paired senders')).action(
    (flags: AdminFlags) => listPairing(adminTarget(flags), output),
  )
  addAdminOptions(
    pairing
      .command('approve')
      .description('approve by code (<channelType> <code>) or by request id (--request <id>)')
      .argument('[channelType]', 'such as telegram')
      .argument('[code]', 'the code the sender was given')
      .option('--sender <id>', 'the sender the code must belong to (wrong codes count against its request)')
      .option('--request <id>', 'approve this request id (works when wrong codes locked it)'),
  ).action(
    (
      channelType: string | undefined,
      code: string | undefined,
      flags: AdminFlags & { sender?: string; request?: string },
    ) =>
      approvePairing(
        adminTarget(flags),
        {
          ...(channelType === undefined ? {} : { channelType }),
          ...(code === undefined ? {} : { code }),
          ...(flags.sender === undefined ? {} : { senderId: flags.sender }),
          ...(flags.request === undefined ? {} : { requestId: flags.request }),
        },
        output,
      ),
  )
  addAdminOptions(
    pairing.command('deny').description('deny a pending request').argument('<requestId>'),
  ).action((requestId: string, flags: AdminFlags) => denyPairing(adminTarget(flags), requestId, output))
  addAdminOptions(
    pairing.command('revoke').description('unpair a sender').argument('<channelType>').argument('<senderId>'),
  ).action((channelType: string, senderId: string, flags: AdminFlags) =>
    revokePairing(adminTarget(flags), channelType, senderId, output),
  )
  return pairing
}

function buildDevicesCommand(): Command {
  const devices = new Command('devices').description(
    "device pairing requests, through a running gateway's admin API",
  )
  addAdminOptions(devices.command('list').description('pending device requests')).action(
    (flags: AdminFlags) => listDevices(adminTarget(flags), output),
  )
  addAdminOptions(
    devices
      .command('approve')
      .description('approve a device: it gets its own token with this role and these scopes')
      .argument('<id>')
      .option('--role <role>', `one of ${ROLES.join(', ')} (default client)`, parseRole)
      .option(
        '--scope <scope>',
        'a scope such as subscribe:* (repeatable; default *:*)',
        collect,
        [] as string[],
      ),
  ).action((id: string, flags: AdminFlags & { role?: string; scope: string[] }) =>
    approveDevice(
      adminTarget(flags),
      id,
      { ...(flags.role === undefined ? {} : { role: flags.role }), scopes: flags.scope },
      output,
    ),
  )
  addAdminOptions(
    devices.command('deny').description('deny a device (a waiting one is closed with 4009)').argument('<id>'),
  ).action((id: string, flags: AdminFlags) => denyDevice(adminTarget(flags), id, output))
  return devices
}

function buildProgram(): Command {
  const program = new Command()
    .name('parley')
    .description('Parley: self-hosted gateway for AI agents')
    .version(GATEWAY_VERSION)
    .showHelpAfterError()

  program
    .command('serve')
    .description('run the gateway (flags override PARLEY_* environment variables, which override defaults)')
    .option('--host <host>', 'address to bind (default 127.0.0.1; others need --auth-token)')
    .option('--port <port>', 'HTTP and WebSocket port (default 8765; 0 picks a free one)')
    .option('--auth-token <token>', 'shared token every client must present')
    .option('--allow-anonymous <bool>', 'accept clients without a token (default: true without --auth-token)')
    .option('--admin-token <token>', 'admin API token (default: generated at first start)')
    .option('--database-url <url>', 'memory:// or postgres://… (default: embedded PGlite in <data-dir>/data)')
    .option('--data-dir <dir>', 'data folder (default ./.parley)')
    .option('--ssl-cert <file>', 'PEM certificate; serve HTTPS and WSS (needs --ssl-key)')
    .option('--ssl-key <file>', 'PEM private key (needs --ssl-cert)')
    .option('--max-connections <n>', 'concurrent connection limit (default 1000)')
    .option('--heartbeat-interval <seconds>', 'heartbeat period in seconds (default 30)')
    .option('--max-payload <bytes>', 'largest accepted frame in bytes (default 1048576)')
    .option(
      '--store-backend <backend>',
      'where deliveries and channel history live: postgres (the database, default), redis or memory',
    )
    .option(
      '--redis-url <url>',
      'redis://… shared by several nodes (needs --store-backend postgres or redis)',
    )
    .option('--node-id <id>', "this node's id among the nodes sharing Redis (default: generated)")
    .option(
      '--agent-timeout <seconds>',
      'seconds an agent that stopped heartbeating stays listed (default 300)',
    )
    .action(serve)

  program
    .command('status')
    .description("print a running gateway's health")
    .option('--url <url>', 'gateway base URL', parseUrl, 'http://127.0.0.1:8765')
    .action(status)

  program.addCommand(buildMigrateCommand({ output, env: process.env }))
  program.addCommand(buildTokenCommand())
  program.addCommand(buildPairingCommand())
  program.addCommand(buildDevicesCommand())
  program.addCommand(buildAgentsCommand({ addAdminOptions, adminTarget, output, env: process.env }))
  program.addCommand(buildMcpCommand({ addAdminOptions, adminTarget, output, env: process.env }))
  program.addCommand(
    buildAuditCommand({
      output,
      env: process.env,
      stdout: process.stdout,
      fail: () => {
        process.exitCode = 1
      },
    }),
  )

  return program
}

try {
  await buildProgram().parseAsync(process.argv)
} catch (error) {
  if (error instanceof ConfigError || error instanceof AdminCallError) {
    write(process.stderr, error.message)
  } else {
    write(process.stderr, `parley: ${error instanceof Error ? error.message : String(error)}`)
  }
  process.exit(1)
}
