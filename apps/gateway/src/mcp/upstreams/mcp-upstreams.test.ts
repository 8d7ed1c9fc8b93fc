import type { AgentRegisterFrame } from '@parley/protocol'
import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { AgentLayer } from '../../agents/agent-layer.js'
import type { McpServerRecord, McpServerRegistry, McpServersListener } from './mcp-server-registry.js'
import { createMcpUpstreams } from './mcp-upstreams.js'
import type { ConnectOptions, UpstreamConnection } from './upstream-connection.js'

const SERVER: McpServerRecord = {
  name: 'calc',
  url: 'http://127.0.0.1:1/mcp',
  credentials: undefined,
  createdAt: 0,
}

function registryOf(records: McpServerRecord[]): McpServerRegistry {
  return {
    list: async () => records,
    add: async () => {
      throw new Error('not used')
    },
    remove: async () => false,
    changed: async () => {},
    watch(listener: McpServersListener) {
      void listener(records)
      return () => {}
    },
  }
}

/** The agent layer's hosting side: which capabilities are hosted now. */
function fakeLayer() {
  const hosted = new Map<string, string[]>()
  let next = 0
  const layer = {
    registerHosted(connection: { id: string }, frame: AgentRegisterFrame) {
      next += 1
      hosted.set(
        connection.id,
        frame.capabilities.map((spec) => (typeof spec === 'string' ? spec : spec.name)),
      )
      return { instanceId: `inst-${next}` }
    },
    unregisterHosted(connection: { id: string }) {
      hosted.delete(connection.id)
    },
    answerFrom() {},
  }
  return {
    layer: layer as unknown as Pick<AgentLayer, 'registerHosted' | 'unregisterHosted' | 'answerFrom'>,
    capabilities: () => [...hosted.values()].flat().sort(),
  }
}

describe('MCP upstream manager', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('retries a server that is down with doubling delays up to retryMax, hosts its tools once it answers, then lists them every refreshInterval', async () => {
    vi.useFakeTimers()
    const attempts: number[] = []
    let reachable = false
    let listings = 0
    const connect = async (_options: ConnectOptions): Promise<UpstreamConnection> => {
      attempts.push(Date.now())
      if (!reachable) throw new Error('connect ECONNREFUSED')
      return {
        listTools: async () => {
          listings += 1
          return [{ name: 'add', inputSchema: { type: 'object' } }]
        },
        callTool: async () => ({ content: [] }),
        close: async () => {},
      }
    }
    const { layer, capabilities } = fakeLayer()
    const upstreams = createMcpUpstreams({
      registry: () => registryOf([SERVER]),
      agents: layer,
      config: { refreshInterval: 30, retryInitial: 1, retryMax: 4, timeout: 5 },
      clientVersion: 'test',
      logger: pino({ level: 'silent' }),
      connect,
      // The top of each jittered range: the delays are exact.
      random: () => 1,
    })
    const started = Date.now()
    upstreams.start()
    await vi.advanceTimersByTimeAsync(0)
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 4_000 + 4_000)
    expect(attempts.map((at) => at - started)).toEqual([0, 1_000, 3_000, 7_000, 11_000])
    expect(upstreams.info(SERVER).health).toMatchObject({ state: 'down', lastError: 'connect ECONNREFUSED' })
    expect(capabilities()).toEqual([])

    reachable = true
    await vi.advanceTimersByTimeAsync(4_000)
    expect(capabilities()).toEqual(['mcp:calc__add'])
    expect(upstreams.info(SERVER).health).toMatchObject({ state: 'up', lastError: null })
    expect(listings).toBe(1)
    // Up: the next listing waits the refresh interval, on the same session.
    await vi.advanceTimersByTimeAsync(29_000)
    expect(listings).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(listings).toBe(2)
    expect(attempts).toHaveLength(6)

    await upstreams.stop()
    expect(capabilities()).toEqual([])
  })
})
