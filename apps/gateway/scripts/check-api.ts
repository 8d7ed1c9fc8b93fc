// `pnpm check` (via `pnpm --filter @parley/gateway check:api`): fails when the gateway answers a route that the
// OpenAPI document does not describe (or describes one it does not answer), and lints the document as served
// with Redocly (redocly.yaml; the few findings that are right for this API are listed, with why, in
// .redocly.lint-ignore.yaml). The document is left in dist/openapi.json.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createMemoryAuditLog } from '@parley/stores'
import { pino } from 'pino'
import { parseConfig } from '../src/config.js'
import { createGateway } from '../src/create-gateway.js'
import { routeCoverage } from '../src/openapi/route-coverage.js'

const packageDir = new URL('..', import.meta.url).pathname
// Every optional face on, so every route is mounted.
const gateway = createGateway({
  config: parseConfig({ mcp: { enabled: true }, polling: { enabled: true } }),
  audit: createMemoryAuditLog(),
  adminToken: 'check-api-admin-token-0123456789',
  logger: pino({ level: 'silent' }),
})
const coverage = routeCoverage(gateway.app.routes)
let failed = false
if (coverage.undocumented.length > 0) {
  failed = true
  process.stderr.write(
    `Routes without an entry in ADMIN_ENDPOINTS (@parley/protocol) or GATEWAY_ENDPOINTS (src/openapi/gateway-endpoints.ts):\n  ${coverage.undocumented.join('\n  ')}\n`,
  )
}
if (coverage.unserved.length > 0) {
  failed = true
  process.stderr.write(
    `Described endpoints the gateway does not serve:\n  ${coverage.unserved.join('\n  ')}\n`,
  )
}

const answer = await gateway.app.request('/api/openapi.json')
mkdirSync(`${packageDir}dist`, { recursive: true })
writeFileSync(`${packageDir}dist/openapi.json`, `${JSON.stringify(await answer.json(), null, 2)}\n`)
try {
  execFileSync('redocly', ['lint', 'dist/openapi.json', '--format=stylish'], {
    cwd: packageDir,
    stdio: 'inherit',
    // No telemetry or update check from a lint run.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  })
} catch {
  failed = true
}
if (!failed) process.stdout.write('api check: every route is described, and dist/openapi.json lints clean\n')
// The unstarted gateway holds timers (external agent refresh); nothing else to close.
process.exit(failed ? 1 : 0)
