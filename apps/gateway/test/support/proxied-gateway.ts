import { PushClient } from '@parley/client'
import type { GatewayConfigInput } from '../../src/config.js'
import { startTcpProxy, type TcpProxy } from '../acceptance/support/tcp-proxy.js'
import { until } from './client-events.js'
import type { TestClient } from './test-client.js'
import { startTestGateway, type TestGateway } from './test-gateway.js'

const FAST_RECONNECT = { initialDelayMs: 50, maxDelayMs: 200 }

/**
 * A test gateway with a TCP proxy in front of it (`proxy.wsUrl`) whose links a test can cut, hold and release,
 * the clients made through it, and their disposal (call `dispose()` in `afterEach`).
 */
export function proxiedGateway() {
  let server: TestGateway | undefined
  let proxy: TcpProxy | undefined
  const clients: PushClient[] = []
  const raw: TestClient[] = []

  return {
    /** The gateway of the last `start()`. */
    get server(): TestGateway {
      if (server === undefined) throw new Error('proxiedGateway: start() first')
      return server
    },
    async start(config: GatewayConfigInput = {}): Promise<{ server: TestGateway; proxy: TcpProxy }> {
      server = await startTestGateway(config)
      proxy = await startTcpProxy(server.started.port)
      return { server, proxy }
    },
    /** A PushClient that reconnects quickly (50-200 ms), closed by `dispose()`. */
    client(url: string, clientId: string, authToken?: string): PushClient {
      const created = new PushClient(url, {
        clientId,
        reconnect: FAST_RECONNECT,
        ...(authToken === undefined ? {} : { authToken }),
      })
      clients.push(created)
      return created
    },
    /** Closes a raw test socket with the rest. */
    track<T extends TestClient>(socket: T): T {
      raw.push(socket)
      return socket
    },
    /** Cuts every link (both sides reset, as a network does) and waits until the gateway has `remaining` left. */
    async cutAndWait(remaining: number): Promise<void> {
      proxy?.cut()
      await until(
        () => server?.gateway.stats().connections === remaining,
        10_000,
        'the gateway dropping the cut connection',
      )
    },
    async dispose(): Promise<void> {
      await Promise.all(clients.splice(0).map((created) => created.close()))
      for (const socket of raw.splice(0)) socket.close()
      await proxy?.close()
      await server?.dispose()
      server = undefined
      proxy = undefined
    },
  }
}
