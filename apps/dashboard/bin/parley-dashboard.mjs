#!/usr/bin/env node
// `npx @parley/dashboard`: serves the dashboard this package ships built (`.next/`) with `next start`, from
// the package's own folder. The same variables as in the repository: PARLEY_GATEWAY_URL,
// PARLEY_DASHBOARD_SECRET, PORT and PARLEY_DASHBOARD_HOST (flags --port / --hostname win over them).
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const usage = `usage: parley-dashboard [--port <port>] [--hostname <address>]

  --port      port to listen on (default: $PORT or 3000)
  --hostname  address to bind (default: $PARLEY_DASHBOARD_HOST or 127.0.0.1)

  PARLEY_GATEWAY_URL       the gateway's base URL (default http://127.0.0.1:8765)
  PARLEY_DASHBOARD_SECRET  the gateway's PARLEY_DASHBOARD_SECRET (see the package README)
`

let flags
try {
  flags = parseArgs({
    options: {
      port: { type: 'string' },
      hostname: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values
} catch (error) {
  process.stderr.write(`parley-dashboard: ${error.message}\n\n${usage}`)
  process.exit(2)
}
if (flags.help) {
  process.stdout.write(usage)
  process.exit(0)
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next')
const port = flags.port ?? process.env.PORT ?? '3000'
const hostname = flags.hostname ?? process.env.PARLEY_DASHBOARD_HOST ?? '127.0.0.1'
const child = spawn(
  process.execPath,
  [nextBin, 'start', packageDir, '--port', port, '--hostname', hostname],
  {
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
  },
)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)))
