#!/usr/bin/env node
// The client half of scripts/container-check.sh: through the balancer, a WebSocket subscriber and a long-polling
// subscriber (its WebSocket refused, so every poll is balanced on its own, with no stickiness) follow one channel
// while a third client publishes numbered messages. Half-way, the gateway container serving the WebSocket
// subscriber is killed (SIGKILL); the check passes when both subscribers received every number exactly once, in
// order, and the WebSocket one came back on the other node.
//
// Environment: PARLEY_CHECK_URL (the balancer, http://host:port), PARLEY_CHECK_TOKEN (the gateways' auth token),
// PARLEY_CHECK_KILL (a command the victim's node id is appended to, e.g. "podman kill --signal KILL parley-check-").
import { execSync } from 'node:child_process'
import { PushClient } from '../packages/client/dist/index.js'

const TOTAL = 100
const BEFORE_KILL = 40
const DEADLINE_MS = 90_000

const baseUrl = required('PARLEY_CHECK_URL').replace(/\/$/, '')
const authToken = required('PARLEY_CHECK_TOKEN')
const killCommand = required('PARLEY_CHECK_KILL')
const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/ws`
const channel = `container-check-${Date.now()}`

function required(name) {
  const value = process.env[name]
  if (!value) fail(`${name} is not set`)
  return value
}

function say(text) {
  process.stdout.write(`client: ${text}\n`)
}

function fail(text) {
  process.stderr.write(`client: FAIL: ${text}\n`)
  process.exit(1)
}

/** A WebSocket that never opens (a proxy refusing upgrades): the SDK carries on over HTTP long-polling. */
class RefusedWebSocket {
  readyState = 0
  onopen = null
  onmessage = null
  onclose = null
  onerror = null
  constructor() {
    queueMicrotask(() => {
      this.readyState = 3
      this.onerror?.(new Error('upgrade refused'))
      this.onclose?.({ code: 1006, reason: 'upgrade refused' })
    })
  }
  send() {}
  close() {}
}

const reconnect = { initialDelayMs: 200, maxDelayMs: 2_000 }

function subscriber(name, options = {}) {
  const client = new PushClient(wsUrl, { authToken, reconnect, ...options })
  const state = { name, client, numbers: [], nodes: [], completedAt: undefined }
  client.on('connect', (welcome) => state.nodes.push(welcome.node))
  client.on('channel_message', (message) => {
    if (message.channel !== channel) return
    state.numbers.push(message.data.n)
    if (state.numbers.length === TOTAL) state.completedAt = Date.now()
  })
  return state
}

async function until(what, condition) {
  const deadline = Date.now() + DEADLINE_MS
  while (!condition()) {
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

let retriedPublishes = 0
/** Publishes `n` until the gateway acknowledges it; the idempotency key makes a retry of a stored one a no-op. */
async function publish(publisher, n) {
  for (;;) {
    try {
      return await publisher.publish(channel, { n }, { idempotencyKey: `${channel}-${n}` })
    } catch (error) {
      retriedPublishes += 1
      if (retriedPublishes > 200) fail(`publish ${n} keeps failing: ${error.message}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

function checkSequence(state) {
  const expected = Array.from({ length: TOTAL }, (_, index) => index + 1)
  if (state.numbers.length !== TOTAL || state.numbers.some((n, index) => n !== expected[index])) {
    fail(`${state.name} received ${JSON.stringify(state.numbers)}, expected 1..${TOTAL} once each, in order`)
  }
}

const websocket = subscriber('websocket subscriber')
const polling = subscriber('polling subscriber', {
  WebSocket: RefusedWebSocket,
  websocketProbeIntervalMs: 3_600_000,
})
const publisher = new PushClient(wsUrl, { authToken, reconnect })

await Promise.all([websocket.client.connect(), polling.client.connect(), publisher.connect()])
if (polling.client.transport !== 'polling') fail(`the polling subscriber is on ${polling.client.transport}`)
await Promise.all([websocket.client.subscribe(channel), polling.client.subscribe(channel)])
say(
  `websocket subscriber on ${websocket.nodes[0]}, polling subscriber on ${polling.nodes[0]}, channel ${channel}`,
)

for (let n = 1; n <= BEFORE_KILL; n += 1) await publish(publisher, n)
await until(`messages 1..${BEFORE_KILL}`, () =>
  [websocket, polling].every((state) => state.numbers.length >= BEFORE_KILL),
)
say(`messages 1..${BEFORE_KILL} received by both subscribers`)

const victim = websocket.nodes.at(-1)
say(`killing the gateway container of ${victim}`)
execSync(`${killCommand}${victim}`, { stdio: 'inherit' })
const killedAt = Date.now()

// Published while the WebSocket subscriber reconnects through the balancer to the surviving node.
for (let n = BEFORE_KILL + 1; n <= TOTAL; n += 1) {
  await publish(publisher, n)
  await new Promise((resolve) => setTimeout(resolve, 20))
}
await until(`messages ${BEFORE_KILL + 1}..${TOTAL}`, () =>
  [websocket, polling].every((state) => state.numbers.length >= TOTAL),
)
// Anything late (a duplicate) would arrive now.
await new Promise((resolve) => setTimeout(resolve, 500))

checkSequence(websocket)
checkSequence(polling)
const rejoined = websocket.nodes.at(-1)
if (rejoined === victim) fail(`the websocket subscriber is still on ${victim}, which was killed`)
say(
  `websocket subscriber moved ${victim} -> ${rejoined}; nodes seen by the polling subscriber: ${polling.nodes.join(', ')}`,
)
say(
  `both subscribers received 1..${TOTAL} exactly once, in order (${retriedPublishes} publish attempts retried)`,
)
for (const state of [websocket, polling]) {
  say(
    `${state.name}: message ${TOTAL} arrived ${((state.completedAt - killedAt) / 1000).toFixed(1)} s after the kill`,
  )
}
await Promise.all([websocket.client.close(), polling.client.close(), publisher.close()])
