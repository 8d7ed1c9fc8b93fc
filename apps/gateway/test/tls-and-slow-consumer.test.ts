import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { get } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { hasCommand } from './support/commands.js'
import { TestClient } from './support/test-client.js'
import { startTestGateway, type TestGateway } from './support/test-gateway.js'

async function selfSignedCertificate(): Promise<{ dir: string; cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-tls-'))
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  return { dir, cert, key }
}

function httpsJson(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { rejectUnauthorized: false }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        text += chunk
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }))
    }).on('error', reject)
  })
}

describe('TLS', () => {
  let server: TestGateway | undefined
  let certDir: string | undefined
  afterEach(async () => {
    await server?.dispose()
    if (certDir !== undefined) await rm(certDir, { recursive: true, force: true })
  })

  // The certificate is made with the openssl command. A developer machine without it skips this test; CI
  // (CI=true) never skips it, so a missing openssl fails the run there instead of hiding the check.
  it.skipIf(!hasCommand('openssl', ['version']) && process.env.CI !== 'true')(
    'serves HTTPS and WSS when sslCert and sslKey are given',
    async () => {
      const certificate = await selfSignedCertificate()
      certDir = certificate.dir
      server = await startTestGateway({ sslCert: certificate.cert, sslKey: certificate.key })
      expect(server.started.url).toMatch(/^https:/)
      expect(server.started.wsUrl).toMatch(/^wss:/)
      const health = await httpsJson(`${server.started.url}/health`)
      expect(health).toMatchObject({ status: 200, body: { status: 'ok' } })
      const client = await TestClient.connect(server.started.wsUrl, {}, { rejectUnauthorized: false })
      await client.subscribe('secure')
      client.close()
    },
  )
})

describe('slow consumers', () => {
  let server: TestGateway | undefined
  afterEach(async () => {
    await server?.dispose()
  })

  it('closes a subscriber that stops reading with 4006 once its outbound buffer passes the bound, and stops counting it at once', async () => {
    server = await startTestGateway({ maxBufferedBytes: 256 * 1024 })
    const slow = await TestClient.connect(server.started.wsUrl, { clientId: 'slow' })
    await slow.subscribe('firehose')
    const publisher = await TestClient.connect(server.started.wsUrl, { clientId: 'fast' })
    // Stop reading from the socket: the gateway's writes back up into its own buffer.
    slow.socket.pause()

    const chunk = 'x'.repeat(64 * 1024)
    let delivered = 1
    for (let i = 0; i < 1_000 && delivered > 0; i++) {
      const answer = await publisher.request({ type: 'publish', channel: 'firehose', data: chunk })
      delivered = answer.type === 'reply' ? Number(answer.result.delivered) : 0
    }
    expect(delivered).toBe(0)
    expect(server.gateway.stats().slowConsumers).toBe(1)
    // Cut at once: only the publisher still counts, though the slow socket has not finished closing.
    expect(server.gateway.stats().connections).toBe(1)
    const metrics = await (await fetch(`${server.started.url}/metrics`)).text()
    expect(metrics).toMatch(/^parley_connections 1$/m)

    slow.socket.resume()
    expect((await slow.waitClosed(10_000)).code).toBe(4006)
    publisher.close()
  })
})
