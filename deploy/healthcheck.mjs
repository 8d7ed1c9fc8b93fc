// Container health check (HEALTHCHECK in deploy/Dockerfile): `node healthcheck.mjs gateway|dashboard` exits 0
// when the process in this container answers its health route with 200, 1 otherwise. Plain Node, no
// dependencies, so the final images need no curl. The gateway is asked over HTTPS when it serves TLS
// (PARLEY_SSL_CERT set); its certificate names the public host, not 127.0.0.1, so it is not verified here.
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

const TARGETS = {
  gateway: () => ({
    tls: Boolean(process.env.PARLEY_SSL_CERT),
    port: Number(process.env.PARLEY_PORT || 8765),
    path: '/health',
  }),
  dashboard: () => ({ tls: false, port: Number(process.env.PORT || 3000), path: '/api/health' }),
}

const target = TARGETS[process.argv[2]]
if (target === undefined) {
  process.stderr.write('usage: healthcheck.mjs gateway|dashboard\n')
  process.exit(2)
}
const { tls, port, path } = target()
const request = tls ? httpsRequest : httpRequest
const call = request(
  { host: '127.0.0.1', port, path, timeout: 4000, rejectUnauthorized: false },
  (response) => {
    response.resume()
    process.exit(response.statusCode === 200 ? 0 : 1)
  },
)
call.on('timeout', () => call.destroy(new Error('timed out')))
call.on('error', (error) => {
  process.stderr.write(`health check failed: ${error.message}\n`)
  process.exit(1)
})
call.end()
