import { afterEach } from 'vitest'
import { PushClient } from '../push-client.js'
import type { PushClientOptions } from '../push-client-types.js'
import { ScriptedServer, type ScriptedServerOptions } from './scripted-server.js'

/**
 * Creates servers and clients that are torn down after each test, so a failing test cannot leak sockets or
 * reconnect timers into the next one.
 */
export function useFixtures(): {
  server(options?: ScriptedServerOptions): Promise<ScriptedServer>
  client(url: string, options?: PushClientOptions): PushClient
} {
  const servers: ScriptedServer[] = []
  const clients: PushClient[] = []
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()))
    await Promise.all(servers.splice(0).map((server) => server.stop()))
  })
  return {
    async server(options) {
      const server = await ScriptedServer.start(options)
      servers.push(server)
      return server
    },
    client(url, options = {}) {
      const client = new PushClient(url, options)
      clients.push(client)
      return client
    },
  }
}
