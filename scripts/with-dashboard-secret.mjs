#!/usr/bin/env node
// Runs the command given as arguments with PARLEY_DASHBOARD_SECRET set: the operator's value when there is one,
// else a fresh random one for this run. `pnpm start` runs the gateway and the dashboard under it, so both share
// the secret and the gateway believes the browser address the dashboard names (failed logins count per browser,
// not against the dashboard's own address). See docs/operations.md, "Dashboard set-up".
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'

const [command, ...args] = process.argv.slice(2)
if (command === undefined) {
  process.stderr.write('usage: with-dashboard-secret.mjs <command> [args…]\n')
  process.exit(2)
}
const env = { ...process.env }
if (!env.PARLEY_DASHBOARD_SECRET) env.PARLEY_DASHBOARD_SECRET = randomBytes(32).toString('base64url')
const child = spawn(command, args, { stdio: 'inherit', env })
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)))
