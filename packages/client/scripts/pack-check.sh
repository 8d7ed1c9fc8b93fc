#!/usr/bin/env bash
# Proves the published packages work outside the workspace: builds and packs @parley/protocol and
# @parley/client, lints both tarballs (publint, attw esm-only), installs them with plain npm into an empty
# folder, then
#   1. runs a Node script that talks to a tiny protocol server through PushClient, and
#   2. type-checks a consumer file against the installed .d.ts files, and
#   3. bundles it for the browser with esbuild,
#   4. generates, saves, loads and uses an agent identity (main entry + `@parley/client/node`).
# Usage: packages/client/scripts/pack-check.sh   (from anywhere; KEEP_PACK_CHECK=1 keeps the temp folder)
set -euo pipefail

client_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_dir="$(cd "$client_dir/../.." && pwd)"
protocol_dir="$repo_dir/packages/protocol"
work="$(mktemp -d "${TMPDIR:-/tmp}/parley-pack-check.XXXXXX")"
cleanup() { if [[ "${KEEP_PACK_CHECK:-}" != 1 ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT

echo "pack-check: building"
pnpm --dir "$repo_dir" --filter @parley/protocol --filter @parley/client build >/dev/null

echo "pack-check: packing into $work"
(cd "$protocol_dir" && pnpm pack --pack-destination "$work" >/dev/null)
(cd "$client_dir" && pnpm pack --pack-destination "$work" >/dev/null)
protocol_tgz="$(ls "$work"/parley-protocol-*.tgz)"
client_tgz="$(ls "$work"/parley-client-*.tgz)"

# pnpm pack must have replaced workspace:* and catalog: with real versions, or npm cannot install it.
if tar -xOzf "$client_tgz" package/package.json | grep -Eq '"(workspace|catalog):'; then
  echo "pack-check: client package.json still has workspace:/catalog: specifiers" >&2
  exit 1
fi

# Lint the tarballs themselves: `attw --pack` would run `npm pack`, which ignores the publishConfig.exports
# that pnpm applies, and so would check the workspace (src) exports instead of what gets published.
for tarball in "$protocol_tgz" "$client_tgz"; do
  "$client_dir/node_modules/.bin/publint" "$tarball"
  "$client_dir/node_modules/.bin/attw" "$tarball" --profile esm-only --format table-flipped >/dev/null || {
    "$client_dir/node_modules/.bin/attw" "$tarball" --profile esm-only
    exit 1
  }
  echo "pack-check: attw OK for $(basename "$tarball")"
done

app="$work/app"
mkdir -p "$app"
cd "$app"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
echo "pack-check: npm install of both tarballs"
npm install --no-audit --no-fund --loglevel=error "$protocol_tgz" "$client_tgz" >/dev/null

cat > check.mjs <<'JS'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { PROTOCOL_VERSION } from '@parley/protocol'
import { ParleyError, PushClient, TimeoutError } from '@parley/client'
import { WebSocketServer } from 'ws'

const fail = (message) => {
  process.stderr.write(`pack-check: ${message}\n`)
  process.exit(1)
}
const schemaPath = createRequire(import.meta.url).resolve('@parley/protocol/protocol.schema.json')
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'))
if (!schema.$defs?.ServerFrame) fail('protocol.schema.json has no ServerFrame')

// A tiny protocol server: welcome, subscribe and publish with fan-out back to the sender.
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
await new Promise((resolve) => wss.once('listening', resolve))
const channels = new Set()
wss.on('connection', (socket) => {
  const send = (frame) => socket.send(JSON.stringify(frame))
  socket.on('message', (raw) => {
    const frame = JSON.parse(String(raw))
    if (frame.type === 'hello') {
      if (frame.auth?.token !== 't0ken') return socket.close(4001, 'unauthorized')
      send({
        type: 'welcome', protocol: PROTOCOL_VERSION, sessionId: 's1', connectionId: 'c1', clientId: 'packed',
        heartbeatIntervalMs: 30000, limits: { maxPayload: 65536, maxSubscriptions: 100 }, features: [],
        server: { name: 'pack-check', version: '0' },
      })
    } else if (frame.type === 'subscribe') {
      channels.add(frame.channel)
      send({ type: 'reply', id: frame.id, result: { channel: frame.channel } })
    } else if (frame.type === 'publish') {
      const delivered = channels.has(frame.channel) ? 1 : 0
      const timestamp = Date.now()
      if (delivered) send({ type: 'channel_message', channel: frame.channel, data: frame.data, id: 'm1', source: 'packed', timestamp })
      send({ type: 'reply', id: frame.id, result: { id: 'm1', channel: frame.channel, delivered, timestamp } })
    }
  })
})

const url = `ws://127.0.0.1:${wss.address().port}/ws`
const client = new PushClient(url, { authToken: 't0ken', reconnect: false })
const welcome = await client.connect()
if (welcome.clientId !== 'packed' || client.state !== 'connected') fail('connect did not reach connected')
await client.subscribe('alerts')
const received = new Promise((resolve) => client.on('channel_message', resolve))
const receipt = await client.publish('alerts', { hello: 'npm' })
if (receipt.id !== 'm1' || receipt.delivered !== 1) fail(`unexpected publish receipt ${JSON.stringify(receipt)}`)
const message = await received
if (message.data?.hello !== 'npm') fail('channel_message did not arrive')
const timeout = await client.waitFor('alerts', { timeout: 50 }).catch((error) => error)
if (!(timeout instanceof TimeoutError) || !(timeout instanceof ParleyError)) fail('waitFor did not reject with TimeoutError')
await client.close()
if (client.state !== 'closed') fail('close did not reach closed')
wss.close()
process.stdout.write('pack-check: runtime OK (connect, subscribe, publish, channel_message, waitFor timeout, close)\n')
JS
node check.mjs

# Agent identity: the main entry (WebCrypto) and the Node-only file helpers of the `./node` subpath.
cat > identity.mjs <<'JS'
import { statSync } from 'node:fs'
import { generateIdentity, IdentityError, publicKeyFromDidKey, signChallenge, verifyChallenge } from '@parley/client'
import { loadIdentity, saveIdentity } from '@parley/client/node'

const fail = (message) => {
  process.stderr.write(`pack-check: ${message}\n`)
  process.exit(1)
}
const identity = await generateIdentity()
if (!identity.id.startsWith('did:key:z6Mk') || publicKeyFromDidKey(identity.id).length !== 32) fail('bad did:key')
await saveIdentity('agent.json', identity)
if ((statSync('agent.json').mode & 0o777) !== 0o600) fail('identity file is not 0600')
const refused = await saveIdentity('agent.json', identity).catch((error) => error)
if (!(refused instanceof IdentityError) || refused.reason !== 'file_exists') fail('saveIdentity overwrote a file')
const loaded = await loadIdentity('agent.json')
const signed = await signChallenge(loaded, { nonce: 'pack-check', timestamp: Date.now() })
if (!(await verifyChallenge(identity.id, signed))) fail('signature of the loaded identity did not verify')
if (await verifyChallenge(identity.id, { ...signed, nonce: 'other' })) fail('a modified nonce verified')
process.stdout.write('pack-check: identity OK (generate, save 0600, overwrite refused, load, sign, verify)\n')
JS
node identity.mjs

# The consumer's view of the types, checked with the workspace's TypeScript against the installed packages.
# A browser-style project (DOM lib, no @types/node) with skipLibCheck off, so the shipped .d.ts files are
# checked too.
cat > types.ts <<'TS'
import {
  type AckMode,
  type ChannelMessage,
  type DirectMessage,
  type NackOptions,
  ParleyError,
  PushClient,
  type PublishReceipt,
  type ReceiptEvent,
  type SendReceipt,
  type StreamPosition,
  type SubscribedInfo,
  TimeoutError,
  type AgentIdentity,
  type DeviceInfo,
  type DeviceToken,
  type PairingCheckResult,
  type PairingPendingInfo,
  type PairingResolvedEvent,
  type IdentityErrorReason,
  type IdentityFile,
  type SignedChallenge,
  IdentityError,
  challengeMessage,
  didKeyFromPublicKey,
  exportIdentity,
  generateIdentity,
  importIdentity,
  publicKeyFromDidKey,
  signChallenge,
  verifyChallenge,
} from '@parley/client'
import { loadIdentity, saveIdentity } from '@parley/client/node'
import type { ErrorCode } from '@parley/protocol'

const client = new PushClient('ws://127.0.0.1:8765/ws', { authToken: 't', reconnect: { maxAttempts: 3 } })
client.on('channel_message', (message: ChannelMessage) => message.channel.toUpperCase())
client.on('reconnecting', ({ attempt, delayMs }) => attempt + delayMs)
export const receipt: Promise<PublishReceipt> = client.publish('alerts', { a: 1 })
export const delivered: Promise<number> = receipt.then((r) => r.delivered)
export const code: ErrorCode = new ParleyError({ code: 'timeout', message: 'x' }).code
export const isTimeout: boolean = new TimeoutError('x') instanceof ParleyError
// Guaranteed delivery: async handlers, settlement methods, recovery info, send and receipts.
const durable = new PushClient('ws://127.0.0.1:8765/ws', { clientId: 'worker-1', ackMode: 'manual' as AckMode })
durable.on('direct_message', async (message: DirectMessage) => {
  if (message.attempt > 3) message.nack({ delayMs: 1_000, reason: 'busy' } satisfies NackOptions)
  else message.ack()
})
durable.on('subscribed', (info: SubscribedInfo) => info.wasRecovering && !info.recovered)
durable.on('receipt', (event: ReceiptEvent) => event.status === 'acked')
const since: StreamPosition | undefined = durable.positionOf('jobs')
export const subscribed: Promise<SubscribedInfo> = durable.subscribe('jobs', { durable: true, since })
export const sent: Promise<SendReceipt> = durable.send('planner', { ok: true }, { idempotencyKey: 'k', receipt: true })
// Agent identity, and the Node-only file helpers (their declarations must not need @types/node).
const identity: AgentIdentity = await generateIdentity()
const file: IdentityFile = await exportIdentity(identity)
const signed: SignedChallenge = await signChallenge(await importIdentity(file), { nonce: 'n', timestamp: 1 })
export const verified: Promise<boolean> = verifyChallenge(publicKeyFromDidKey(signed.id), signed)
export const message: string = challengeMessage(signed.nonce, signed.timestamp, didKeyFromPublicKey(new Uint8Array(32)))
export const reason: IdentityErrorReason | undefined = new IdentityError('invalid_did', 'x').reason
export const saved: Promise<void> = saveIdentity('agent.json', identity, { overwrite: true })
export const loaded: Promise<AgentIdentity> = loadIdentity('agent.json')
// Identity at connect, device pairing and the connector API.
const agent = new PushClient('ws://127.0.0.1:8765/ws', { identity })
const device = new PushClient('ws://127.0.0.1:8765/ws', {
  pairing: { device: { name: 'kitchen tablet', platform: 'android' } satisfies DeviceInfo },
  pairingTimeoutMs: 60_000,
})
device.on('pairing_pending', (info: PairingPendingInfo) => info.requestId + info.expiresAt)
device.on('device_token', ({ token, deviceId, requestId }: DeviceToken) => token + deviceId + requestId)
agent.on('pairing_resolved', (event: PairingResolvedEvent) => event.status === 'approved')
export const check: Promise<PairingCheckResult> = agent.pairingCheck('telegram', '1', { displayName: 'Ana' })
TS
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2022", "lib": ["ES2022", "DOM"],
  "strict": true, "noEmit": true, "skipLibCheck": false, "types": [] }, "files": ["types.ts"] }
JSON
node "$client_dir/node_modules/typescript/bin/tsc" -p tsconfig.json
echo "pack-check: types OK"
# A browser bundle of the installed package must build without Node built-ins (ws resolves to its browser stub
# and is only reached when there is no global WebSocket).
cat > browser.mjs <<'JS'
import { generateIdentity, PushClient, signChallenge } from '@parley/client'
export const client = new PushClient('wss://example.test/ws')
export const signed = generateIdentity().then((identity) => signChallenge(identity, { nonce: 'n' }))
JS
"$client_dir/node_modules/.bin/esbuild" browser.mjs --bundle --platform=browser --format=esm --log-level=warning \
  --outfile=browser-bundle.js
if grep -Eq 'require\("(node:)?(events|net|tls|http|https|crypto|stream|zlib|fs)"\)|"node:' browser-bundle.js; then
  echo "pack-check: the browser bundle pulls in Node built-ins" >&2
  exit 1
fi
echo "pack-check: browser bundle OK ($(wc -c < browser-bundle.js) bytes)"
echo "pack-check: passed"
