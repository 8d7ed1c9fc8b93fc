import { AgentClient, PushClient } from '@parley/client'
import { CreatedToken } from '@parley/protocol'
import { E2E } from '../e2e-env.js'
import { adminApi } from '../helpers.js'
import { RawParleyClient } from '../raw-client.js'

/** Something to close when the screenshots are taken. */
interface Closable {
  close(): Promise<unknown> | unknown
}

async function adminCall(method: 'POST', path: string, body: unknown): Promise<unknown> {
  const answer = await adminApi(method, path, body)
  if (answer.status >= 300)
    throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`)
  return answer.body
}

/**
 * A small, plausible deployment for the screenshots: a web front end and an ops console on channels, agents
 * (two summarizer instances) answering a planner, a mobile app that refuses its deliveries (dead letters), a
 * chat sender and a device waiting for pairing, a few tokens and a policy. Returns what to close afterwards.
 */
export async function createTraffic(): Promise<Closable[]> {
  const open: Closable[] = []

  const summarizerA = new AgentClient(E2E.wsUrl, {
    agentId: 'summarizer',
    clientId: 'summarizer-a',
    capabilities: ['summarize'],
    metadata: { model: 'small', region: 'eu-west' },
  })
  const summarizerB = new AgentClient(E2E.wsUrl, {
    agentId: 'summarizer',
    clientId: 'summarizer-b',
    capabilities: ['summarize'],
    metadata: { model: 'small', region: 'us-east' },
  })
  const billing = new AgentClient(E2E.wsUrl, { agentId: 'billing', capabilities: ['invoices.read'] })
  const planner = new AgentClient(E2E.wsUrl, { agentId: 'planner', capabilities: ['plan'] })
  for (const agent of [summarizerA, summarizerB, billing]) {
    agent.handle(async (data) => ({ ok: true, echo: data }))
  }
  for (const agent of [summarizerA, summarizerB, billing, planner]) {
    await agent.connect()
    open.push(agent)
  }
  for (let n = 1; n <= 6; n++) await planner.request({ capability: 'summarize' }, { text: `ticket #${n}` })
  await planner.request({ capability: 'invoices.read' }, { customer: 'acme' })

  const frontend = new PushClient(E2E.wsUrl, { clientId: 'web-frontend' })
  const opsConsole = new PushClient(E2E.wsUrl, { clientId: 'ops-console' })
  for (const client of [frontend, opsConsole]) {
    await client.connect()
    open.push(client)
  }
  await frontend.subscribe('orders.eu')
  await opsConsole.subscribe('alerts')
  await opsConsole.subscribe('orders.eu')
  for (let n = 1; n <= 5; n++) await frontend.publish('orders.eu', { order: 1000 + n, total: 42.5 * n })
  await opsConsole.publish('alerts', { level: 'high', text: 'disk 91% on node-2' })

  const presence = await RawParleyClient.connect(E2E.wsUrl, 'support-bot')
  open.push(presence)
  await presence.request({ type: 'presence_set', status: 'busy', metadata: { task: 'triage' } })

  // A mobile app that refuses what it is sent: two dead letters after the retries.
  const mobile = await RawParleyClient.connect(E2E.wsUrl, 'mobile-app')
  open.push(mobile)
  mobile.onDirectMessage((message) => {
    mobile.post({ type: 'nack', deliveryId: message.deliveryId, reason: 'handler crashed' })
  })
  const notifier = await RawParleyClient.connect(E2E.wsUrl, 'notifier')
  open.push(notifier)
  await notifier.request({ type: 'send', to: 'mobile-app', data: { push: 'Your order shipped' } })
  await notifier.request({ type: 'send', to: 'mobile-app', data: { push: 'Payment received' } })

  // Someone waiting on every pairing path.
  const connectorToken = CreatedToken.parse(
    await adminCall('POST', '/api/admin/tokens', { name: 'telegram-bot', role: 'connector' }),
  )
  const connector = await RawParleyClient.connect(E2E.wsUrl, 'telegram-bot', connectorToken.token)
  open.push(connector)
  await connector.request({
    type: 'pairing_check',
    channelType: 'telegram',
    senderId: '4711',
    displayName: 'Alice',
  })
  const { client: device } = await RawParleyClient.requestDevicePairing(E2E.wsUrl, {
    name: 'Ops laptop',
    platform: 'linux',
  })
  open.push(device)

  await adminCall('POST', '/api/admin/tokens', {
    name: 'ci-deployer',
    role: 'agent',
    scopes: ['publish:deploys.*'],
  })
  await adminCall('POST', '/api/admin/policies', {
    id: 'billing-needs-intro',
    description: 'Callers must be introduced before they reach billing',
    effect: 'require_introduction',
    actions: ['request'],
    subject: { kind: 'principal', pattern: '*' },
    target: { kind: 'capability', pattern: 'invoices.*' },
    priority: 100,
  })
  return open
}
