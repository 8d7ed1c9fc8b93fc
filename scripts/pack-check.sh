#!/usr/bin/env bash
# Proves every published package runs from its tarball, outside the workspace, installed with plain npm:
#   1. @parley/protocol and @parley/client: packages/client/scripts/pack-check.sh (lint, runtime, types, browser);
#   2. @parley/gateway and @parley/dashboard are packed and linted (publint, attw), their tarballs checked for
#      workspace specifiers, test files and a licence;
#   3. in an empty folder, `npx @parley/gateway serve` (embedded database, port 0) answers /health;
#   4. `parley token create` from that install mints a client token through the admin API;
#   5. in another empty folder, the packed @parley/client publishes with that token and a second client receives
#      the message through the gateway (and a publish outside the token's scopes is refused);
#   6. in a third, `npx @parley/dashboard` logs in to that gateway with the admin token and reads its health;
#   7. SIGTERM drains the gateway and it exits 0.
# Usage: scripts/pack-check.sh [--pack-destination <dir>]   (KEEP_PACK_CHECK=1 keeps the temp folder)
# With --pack-destination the four tarballs are also copied there (what `pnpm release` publishes).
set -euo pipefail

repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
destination=""
if [[ "${1:-}" == --pack-destination ]]; then destination="$(mkdir -p "$2" && cd "$2" && pwd)"; fi
work="$(mktemp -d "${TMPDIR:-/tmp}/parley-pack-check.XXXXXX")"
# The servers run under npx in process groups of their own (setsid): npm does not pass signals on to the
# command it runs, so cleanup signals each whole group.
started_groups=()
cleanup() {
  for group in "${started_groups[@]}"; do kill -TERM -- "-$group" 2>/dev/null || true; done
  if [[ "${KEEP_PACK_CHECK:-}" != 1 ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  echo "pack-check: $*" >&2
  exit 1
}
bin="$repo_dir/node_modules/.bin"

bash "$repo_dir/packages/client/scripts/pack-check.sh"

echo "pack-check: building the gateway and the dashboard"
pnpm --dir "$repo_dir" --filter @parley/protocol --filter @parley/client --filter @parley/gateway \
  --filter @parley/dashboard build >/dev/null

echo "pack-check: packing into $work"
for dir in packages/protocol packages/client apps/gateway apps/dashboard; do
  (cd "$repo_dir/$dir" && pnpm pack --pack-destination "$work" >/dev/null)
done
protocol_tgz="$(ls "$work"/parley-protocol-*.tgz)"
client_tgz="$(ls "$work"/parley-client-*.tgz)"
gateway_tgz="$(ls "$work"/parley-gateway-*.tgz)"
dashboard_tgz="$(ls "$work"/parley-dashboard-*.tgz)"

for tarball in "$protocol_tgz" "$client_tgz" "$gateway_tgz" "$dashboard_tgz"; do
  name="$(basename "$tarball")"
  listing="$(tar -tzf "$tarball")"
  grep -qx 'package/LICENSE' <<<"$listing" || fail "$name has no LICENSE"
  grep -qx 'package/README.md' <<<"$listing" || fail "$name has no README.md"
  if grep -Eq '(\.test\.|/test/|/src/)' <<<"$listing"; then fail "$name ships tests or sources"; fi
  if tar -xOzf "$tarball" package/package.json | grep -Eq '"(workspace|catalog):'; then
    fail "$name: package.json still has workspace:/catalog: specifiers"
  fi
done
# The gateway's tarball carries what its bundled stores read at run time.
gateway_listing="$(tar -tzf "$gateway_tgz")"
for file in dist/cli.js dist/pglite-worker.mjs dist/drizzle/meta/_journal.json; do
  grep -qx "package/$file" <<<"$gateway_listing" || fail "the gateway tarball has no $file"
done

# The tarballs themselves (see scripts/lint-package.sh for why not `attw --pack`); the client's script linted
# protocol and client.
for tarball in "$gateway_tgz" "$dashboard_tgz"; do
  "$bin/publint" "$tarball"
  "$bin/attw" "$tarball" --profile esm-only >/dev/null || { "$bin/attw" "$tarball" --profile esm-only; exit 1; }
  echo "pack-check: attw OK for $(basename "$tarball")"
done
if [[ -n "$destination" ]]; then cp "$protocol_tgz" "$client_tgz" "$gateway_tgz" "$dashboard_tgz" "$destination/"; fi

empty_folder() { # name -> an npm project folder with nothing in it
  mkdir -p "$work/$1" && (cd "$work/$1" && npm init -y >/dev/null && npm pkg set type=module >/dev/null)
  echo "$work/$1"
}
npm_install() { npm install --no-audit --no-fund --loglevel=error "$@" >/dev/null; }
wait_for_line() { # file pattern seconds -> the first matching line
  local deadline=$((SECONDS + $3))
  until grep -Eq "$2" "$1"; do
    ((SECONDS < deadline)) || { cat "$1" >&2; fail "no line matching '$2' in $1 after $3 s"; }
    sleep 0.2
  done
  grep -Em1 "$2" "$1"
}

echo "pack-check: npx @parley/gateway serve in an empty folder"
gateway_app="$(empty_folder gateway-app)"
(cd "$gateway_app" && npm_install "$gateway_tgz")
admin_token="$(node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('base64url'))")"
PARLEY_ADMIN_TOKEN="$admin_token" setsid bash -c \
  'cd "$1" && exec npx --no-install @parley/gateway serve --port 0 >serve.log 2>&1' _ "$gateway_app" &
gateway_npx=$!
started_groups+=("$gateway_npx")
gateway_url="$(wait_for_line "$gateway_app/serve.log" 'Gateway: +http://' 60 | awk '{ print $2 }')"
health="$(curl -sf "$gateway_url/health")" || fail "GET $gateway_url/health failed"
node -e 'const h = JSON.parse(process.argv[1]); if (h.status !== "ok") process.exit(1)' "$health" ||
  fail "unhealthy: $health"
[[ -f "$gateway_app/.parley/data/PG_VERSION" ]] || fail "the embedded database is not in ./.parley/data"
echo "pack-check: gateway OK at $gateway_url ($health)"

echo "pack-check: parley token create"
client_token="$(
  cd "$gateway_app" &&
    PARLEY_ADMIN_TOKEN="$admin_token" npx --no-install parley token create --url "$gateway_url" --name pack-check \
      --role client --scope 'publish:pack.*' --scope 'subscribe:pack.*' | awk 'NF { last = $1 } END { print last }'
)"
[[ -n "$client_token" ]] || fail "token create printed no secret"

echo "pack-check: packed @parley/client against the packed gateway"
client_app="$(empty_folder client-app)"
(cd "$client_app" && npm_install "$protocol_tgz" "$client_tgz")
cat >"$client_app/exchange.mjs" <<'JS'
import { ParleyError, PushClient } from '@parley/client'

const [url, authToken] = process.argv.slice(2)
const fail = (message) => {
  process.stderr.write(`pack-check: ${message}\n`)
  process.exit(1)
}
const wsUrl = `${url.replace(/^http/, 'ws')}/ws`
const receiver = new PushClient(wsUrl, { authToken, reconnect: false })
const sender = new PushClient(wsUrl, { authToken, reconnect: false })
await Promise.all([receiver.connect(), sender.connect()])
await receiver.subscribe('pack.alerts')
const received = new Promise((resolve) => receiver.on('channel_message', resolve))
const receipt = await sender.publish('pack.alerts', { hello: 'from npm' })
if (receipt.delivered !== 1) fail(`publish receipt ${JSON.stringify(receipt)}: expected one delivery`)
const message = await Promise.race([
  received,
  new Promise((_, reject) => setTimeout(() => reject(new Error('no channel_message within 10 s')), 10_000)),
])
if (message.channel !== 'pack.alerts' || message.data?.hello !== 'from npm') fail(`got ${JSON.stringify(message)}`)
const refused = await sender.publish('other', { x: 1 }).catch((error) => error)
if (!(refused instanceof ParleyError) || refused.code !== 'forbidden') fail('a publish outside the scopes was not refused')
await Promise.all([receiver.close(), sender.close()])
process.stdout.write(`pack-check: client OK (published ${receipt.id}, received it, out-of-scope publish forbidden)\n`)
JS
(cd "$client_app" && node exchange.mjs "$gateway_url" "$client_token")

echo "pack-check: npx @parley/dashboard in an empty folder"
dashboard_app="$(empty_folder dashboard-app)"
(cd "$dashboard_app" && npm_install "$dashboard_tgz")
dashboard_port="$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close() })")"
PARLEY_GATEWAY_URL="$gateway_url" setsid bash -c \
  'cd "$1" && exec npx --no-install @parley/dashboard --port "$2" >dashboard.log 2>&1' _ "$dashboard_app" \
  "$dashboard_port" &
started_groups+=("$!")
dashboard_url="http://127.0.0.1:$dashboard_port"
wait_for_line "$dashboard_app/dashboard.log" 'Ready in' 60 >/dev/null
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$dashboard_url/login")" == 200 ]] || fail "GET /login did not answer 200"
login_headers="$(curl -s -o /dev/null -D - -F "token=$admin_token" "$dashboard_url/api/session" | tr -d '\r')"
grep -Eiq '^location: /$' <<<"$login_headers" || fail "login was not accepted: $login_headers"
cookie="$(grep -i '^set-cookie:' <<<"$login_headers" | head -1 | sed -E 's/^[^:]+: *([^;]+).*/\1/')"
dashboard_health="$(curl -sf -H "cookie: $cookie" "$dashboard_url/api/gw/health")" || fail "GET /api/gw/health failed"
grep -q '"status":"ok"' <<<"$dashboard_health" || fail "the dashboard read $dashboard_health"
echo "pack-check: dashboard OK at $dashboard_url (logged in, read the gateway's health)"

echo "pack-check: SIGTERM drains the gateway"
# The gateway is the innermost process under npx (npx, its shell, node); npx ends with the gateway's status.
gateway_pid="$gateway_npx"
while child="$(pgrep -P "$gateway_pid" | head -1)" && [[ -n "$child" ]]; do gateway_pid="$child"; done
kill -TERM "$gateway_pid"
gateway_status=0
wait "$gateway_npx" || gateway_status=$?
[[ "$gateway_status" == 0 ]] || { cat "$gateway_app/serve.log" >&2; fail "the gateway exited $gateway_status"; }
grep -q '"msg":"gateway stopped"' "$gateway_app/serve.log" || fail "the gateway did not log its drained stop"
echo "pack-check: passed"
