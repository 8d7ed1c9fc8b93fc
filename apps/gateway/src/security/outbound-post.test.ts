import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { postOutbound } from './outbound-post.js'
import { OutboundUrlRefused, type ResolveAll } from './outbound-url.js'

/** A resolver whose n-th answer for any name is `answers[n]` (the last one repeats). */
function changingResolver(answers: string[][]): ResolveAll & { calls: number } {
  const resolver = Object.assign(
    async () => {
      const addresses = answers[Math.min(resolver.calls, answers.length - 1)] ?? []
      resolver.calls += 1
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
    },
    { calls: 0 },
  )
  return resolver
}

describe('postOutbound', () => {
  let server: Server | undefined
  const bodies: string[] = []

  afterEach(async () => {
    bodies.length = 0
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
    server = undefined
  })

  async function listen(status: number): Promise<number> {
    server = createServer((request, response) => {
      let text = ''
      request.on('data', (chunk: Buffer) => {
        text += chunk.toString()
      })
      request.on('end', () => {
        bodies.push(text)
        response.writeHead(status).end()
      })
    })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    return (server.address() as AddressInfo).port
  }

  const body = Buffer.from('{"n":1}')
  const headers = { 'content-type': 'application/json' }

  it('connects to the address the resolver gave, and resolves the status', async () => {
    const port = await listen(202)
    const status = await postOutbound(`http://hook.test:${port}/x`, {
      body,
      headers,
      policy: { allowInsecureUrls: true, allowPrivateAddresses: true },
      timeoutMs: 5_000,
      resolve: changingResolver([['127.0.0.1']]),
    })
    expect(status).toBe(202)
    expect(bodies).toEqual(['{"n":1}'])
  })

  it('refuses the connection when the name turns private between the check and the connect (DNS rebinding)', async () => {
    const port = await listen(200)
    const resolve = changingResolver([['93.184.216.34'], ['127.0.0.1']])
    const refused = await postOutbound(`http://hook.test:${port}/x`, {
      body,
      headers,
      policy: { allowInsecureUrls: true, allowPrivateAddresses: false },
      timeoutMs: 5_000,
      resolve,
    }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(OutboundUrlRefused)
    expect((refused as Error).message).toMatch(/127\.0\.0\.1, a loopback address/)
    expect(resolve.calls).toBe(2)
    expect(bodies).toEqual([])
  })

  it('refuses a private literal address before connecting', async () => {
    const port = await listen(200)
    await expect(
      postOutbound(`http://127.0.0.1:${port}/x`, {
        body,
        headers,
        policy: { allowInsecureUrls: true, allowPrivateAddresses: false },
        timeoutMs: 5_000,
      }),
    ).rejects.toBeInstanceOf(OutboundUrlRefused)
    expect(bodies).toEqual([])
  })
})
