import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import pino from 'pino'
import { describe } from 'vitest'
import { startTcpProxy, type TcpProxy } from '../../test/acceptance/support/tcp-proxy.js'
import { RedisConfigSchema } from '../config.js'
import { describeBusBehaviour } from './bus.behaviour.js'
import { connectionOptions, openRedisBus } from './redis-bus.js'
import type { ClusterBus } from './types.js'

const redisUrl = process.env.REDIS_URL

// Needs a real Redis server: CI sets REDIS_URL; without it there is nothing to run these against.
describe.skipIf(redisUrl === undefined)('redis bus', () => {
  describeBusBehaviour('redis', async () => {
    const target = new URL(redisUrl ?? 'redis://127.0.0.1:6379')
    // Every node reaches Redis through a proxy the test can cut, as a network outage would.
    const proxy: TcpProxy = await startTcpProxy(Number(target.port || 6379), {
      upstreamHost: target.hostname,
    })
    const proxied = new URL(target)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(proxy.port)
    const prefix = `parley-test:${randomUUID()}:`
    const config = RedisConfigSchema.parse({ url: proxied.toString(), prefix })
    const nodes: ClusterBus[] = []
    return {
      async join(nodeId) {
        const node = await openRedisBus({ config, nodeId, logger: pino({ level: 'silent' }) })
        nodes.push(node)
        return node
      },
      async setReachable(reachable) {
        if (reachable) {
          proxy.release()
          return
        }
        proxy.hold()
        proxy.cut()
      },
      async close() {
        proxy.release()
        await Promise.all(nodes.map((node) => node.close()))
        await proxy.close()
        const cleaner = new Redis(connectionOptions(RedisConfigSchema.parse({ url: redisUrl })))
        try {
          const keys = await cleaner.keys(`${prefix}*`)
          if (keys.length > 0) await cleaner.del(...keys)
        } finally {
          cleaner.disconnect()
        }
      },
    }
  })
})
