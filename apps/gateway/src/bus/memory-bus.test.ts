import { describeBusBehaviour } from './bus.behaviour.js'
import { createMemoryBusNetwork } from './memory-bus.js'
import type { ClusterBus } from './types.js'

describeBusBehaviour('memory network', async () => {
  const network = createMemoryBusNetwork()
  const nodes: ClusterBus[] = []
  return {
    async join(nodeId) {
      const node = network.join(nodeId)
      nodes.push(node)
      return node
    },
    async setReachable(reachable) {
      network.setReachable(reachable)
    },
    async close() {
      await Promise.all(nodes.map((node) => node.close()))
    },
  }
})
