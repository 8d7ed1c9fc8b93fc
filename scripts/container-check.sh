#!/usr/bin/env bash
# Builds Parley's container images from a local Debian base (no Docker Hub needed) and checks them running as a
# cluster: two gateway containers behind an HAProxy container, the dashboard container, this machine's
# PostgreSQL and Redis. A client through the balancer must survive the loss of one gateway container with no gap
# (scripts/container-check-client.mjs), and the other gateway must drain and exit 0 on SIGTERM.
#
#   sudo bash scripts/container-check.sh   # as root; under 1 min with every layer cached, ~9 min cold here
#
# Needs Debian's podman, runc and mmdebstrap (installed when missing), PostgreSQL at DATABASE_URL (a database of
# its own is created and dropped) and Redis at REDIS_URL (keys under a prefix of its own, deleted at the end).
# Containers use host networking on ports PARLEY_CHECK_PORT .. +3 (default 18760: balancer, gateway-1,
# gateway-2, dashboard). Base images are cached (remove them with `podman rmi` to rebuild); the Parley images are
# rebuilt through podman's layer cache. Everything else is removed on exit, failed or not.
# See docs/operations.md, "Deploy with containers".
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
PORT="${PARLEY_CHECK_PORT:-18760}"
LB_PORT=$PORT GW1_PORT=$((PORT + 1)) GW2_PORT=$((PORT + 2)) DASHBOARD_PORT=$((PORT + 3))
DEBIAN_MIRROR="${PARLEY_CHECK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE=localhost/parley-base:trixie
HAPROXY_IMAGE=localhost/parley-haproxy:trixie
GATEWAY_IMAGE=localhost/parley-gateway:check
DASHBOARD_IMAGE=localhost/parley-dashboard:check
NAME=parley-check # container, volume and database names start with it
RUN_ID="$$"
DATABASE="parley_check_$RUN_ID"
REDIS_PREFIX="parley-check-$RUN_ID:"
podman=(podman --runtime runc --cgroup-manager cgroupfs)
# Starts a container; quiet unless it fails. Health checks are run by this script (`podman healthcheck run`):
# podman's own timers need systemd, and it complains on stderr when it is missing.
start() {
  local output
  output=$("${podman[@]}" run --detach --network host --health-interval disable "$@" 2>&1) || { echo "$output" >&2; return 1; }
}
work=$(mktemp -d)

step() { printf '\n=== container-check: %s (%ss)\n' "$1" "$SECONDS"; }
fail() { echo "container-check: FAIL: $*" >&2; exit 1; }

cleanup() {
  local status=$?
  set +e
  if [ "$status" -ne 0 ]; then
    for container in "$NAME-gateway-1" "$NAME-gateway-2" "$NAME-dashboard" "$NAME-balancer"; do
      "${podman[@]}" container exists "$container" && { echo "--- last logs of $container"; "${podman[@]}" logs --tail 20 "$container" 2>&1; }
    done
  fi
  "${podman[@]}" rm --force --volumes --time 0 "$NAME-gateway-1" "$NAME-gateway-2" "$NAME-dashboard" "$NAME-balancer" >/dev/null 2>&1
  "${podman[@]}" volume rm --force "$NAME-gateway-1-data" "$NAME-gateway-2-data" >/dev/null 2>&1
  psql "$DATABASE_URL" -qc "drop database if exists $DATABASE with (force)" >/dev/null 2>&1
  redis-cli -u "$REDIS_URL" --scan --pattern "$REDIS_PREFIX*" 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "tools"
[ "$(id -u)" = 0 ] || fail "run as root (podman with runc and cgroupfs, as set up here)"
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v mmdebstrap >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc mmdebstrap >/dev/null
fi
# runc under cgroupfs cannot apply podman's default ulimits here.
if ! grep -qs '^default_ulimits = \[\]' /etc/containers/containers.conf; then
  mkdir -p /etc/containers
  [ -s /etc/containers/containers.conf ] && fail "/etc/containers/containers.conf exists: add 'default_ulimits = []' under [containers]"
  printf '[containers]\ndefault_ulimits = []\n' > /etc/containers/containers.conf
fi
command -v psql >/dev/null && command -v redis-cli >/dev/null || fail "psql and redis-cli are needed"
psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null || fail "PostgreSQL does not answer at $DATABASE_URL"
[ "$(redis-cli -u "$REDIS_URL" ping)" = PONG ] || fail "Redis does not answer at $REDIS_URL"
for port in "$LB_PORT" "$GW1_PORT" "$GW2_PORT" "$DASHBOARD_PORT"; do
  ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || fail "port $port is taken; set PARLEY_CHECK_PORT"
done
"${podman[@]}" --version

# A Debian trixie image from Debian's packages (trixie's nodejs is 20.19; bookworm's is 18), imported as a base.
debian_image() { # image packages...
  local image=$1; shift
  if "${podman[@]}" image exists "$image"; then echo "cached: $image"; return; fi
  local packages; packages=$(IFS=,; echo "$*")
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    trixie "$work/rootfs.tar" "$DEBIAN_MIRROR"
  "${podman[@]}" import --quiet "$work/rootfs.tar" "$image" >/dev/null
  rm -f "$work/rootfs.tar"
  echo "built: $image"
}

step "base images (mmdebstrap, cached)"
debian_image "$BASE_IMAGE" nodejs ca-certificates
debian_image "$HAPROXY_IMAGE" haproxy

step "Parley images (deploy/Dockerfile, BASE_IMAGE=$BASE_IMAGE)"
build=("${podman[@]}" build --quiet --format docker --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -f deploy/Dockerfile)
# A TLS-intercepting proxy on the way to the npm registry: hand its CA bundle to the build stages.
ca_bundle="${NODE_EXTRA_CA_CERTS:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
[ -s "$ca_bundle" ] && build+=(--secret "id=ca_certs,src=$ca_bundle")
"${build[@]}" --target gateway -t "$GATEWAY_IMAGE" . >/dev/null
"${build[@]}" --target dashboard -t "$DASHBOARD_IMAGE" . >/dev/null
# Each change of sources leaves the previous images and build stages untagged: drop those older than 3 days
# (only Parley's, by their label), keeping the recent ones as the layer cache.
for title in parley-build parley-gateway parley-dashboard; do
  "${podman[@]}" image prune --force --filter "label=org.opencontainers.image.title=$title" --filter until=72h >/dev/null
done
"${podman[@]}" image inspect --format '{{.Config.User}} {{json .Config.Healthcheck.Test}}' "$GATEWAY_IMAGE" "$DASHBOARD_IMAGE"

step "secrets and database"
random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
random_hex > "$work/auth_token"
random_hex > "$work/admin_token"
random_hex > "$work/dashboard_secret"
chmod 644 "$work"/*_token "$work/dashboard_secret" # the containers run as uid 10001
psql "$DATABASE_URL" -qc "create database $DATABASE" >/dev/null
database_url="${DATABASE_URL%/*}/$DATABASE"
secret() { echo "--volume=$work/$1:/run/secrets/$1:ro"; }

step "start: 2 gateways, dashboard, balancer (host network, ports $LB_PORT-$DASHBOARD_PORT)"
gateway() { # node-id port
  "${podman[@]}" volume create "$NAME-$1-data" >/dev/null
  start --name "$NAME-$1" \
    --env PARLEY_HOST=127.0.0.1 --env PARLEY_PORT="$2" --env PARLEY_NODE_ID="$1" \
    --env PARLEY_DATABASE_URL="$database_url" --env PARLEY_DELIVERY_STORE_BACKEND=postgres \
    --env PARLEY_REDIS_URL="$REDIS_URL" --env PARLEY_REDIS_PREFIX="$REDIS_PREFIX" \
    --env PARLEY_AUTH_TOKEN_FILE=/run/secrets/auth_token --env PARLEY_ADMIN_TOKEN_FILE=/run/secrets/admin_token \
    --env PARLEY_DASHBOARD_SECRET_FILE=/run/secrets/dashboard_secret \
    --env PARLEY_DASHBOARD_URL="http://127.0.0.1:$DASHBOARD_PORT" --env PARLEY_TRUSTED_PROXIES=127.0.0.1/32 \
    "$(secret auth_token)" "$(secret admin_token)" "$(secret dashboard_secret)" \
    --volume "$NAME-$1-data:/var/lib/parley" "$GATEWAY_IMAGE"
}
gateway gateway-1 "$GW1_PORT"
gateway gateway-2 "$GW2_PORT"
start --name "$NAME-balancer" --user haproxy \
  --env PARLEY_LB_BIND="127.0.0.1:$LB_PORT" \
  --env PARLEY_LB_GATEWAY_1="127.0.0.1:$GW1_PORT" --env PARLEY_LB_GATEWAY_2="127.0.0.1:$GW2_PORT" \
  --volume "$PWD/deploy/haproxy.cfg:/etc/haproxy/parley.cfg:ro" \
  "$HAPROXY_IMAGE" haproxy -W -db -f /etc/haproxy/parley.cfg
start --name "$NAME-dashboard" \
  --env HOSTNAME=127.0.0.1 --env PORT="$DASHBOARD_PORT" \
  --env PARLEY_GATEWAY_URL="http://127.0.0.1:$LB_PORT" --env PARLEY_DASHBOARD_SECRET_FILE=/run/secrets/dashboard_secret \
  "$(secret dashboard_secret)" "$DASHBOARD_IMAGE"

step "wait for health (the images' HEALTHCHECKs, then /ready through the balancer)"
wait_healthy() { # container
  local deadline=$((SECONDS + 90))
  until "${podman[@]}" healthcheck run "$1" >/dev/null 2>&1; do
    [ "$("${podman[@]}" inspect --format '{{.State.Running}}' "$1")" = true ] || fail "$1 exited"
    [ "$SECONDS" -lt "$deadline" ] || fail "$1 is not healthy after 90 s"
    sleep 0.5
  done
  echo "healthy: $1"
}
wait_healthy "$NAME-gateway-1"
wait_healthy "$NAME-gateway-2"
wait_healthy "$NAME-dashboard"
deadline=$((SECONDS + 30))
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LB_PORT/ready")" = 200 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the balancer does not answer /ready with 200"
  sleep 0.5
done
echo "balancer: /ready 200 on 127.0.0.1:$LB_PORT"
curl -sf "http://127.0.0.1:$DASHBOARD_PORT/login" -o /dev/null || fail "the dashboard's login page does not answer"
echo "dashboard: /login 200 on 127.0.0.1:$DASHBOARD_PORT"

step "client through the balancer; one gateway container killed"
[ -f packages/client/dist/index.js ] || pnpm --filter @parley/client build >/dev/null
# Under tsx: the client's dist imports @parley/protocol, which the workspace consumes from its TypeScript source.
PARLEY_CHECK_URL="http://127.0.0.1:$LB_PORT" PARLEY_CHECK_TOKEN="$(cat "$work/auth_token")" \
  PARLEY_CHECK_KILL="${podman[*]} kill --signal KILL $NAME-" \
  pnpm --silent --filter @parley/gateway exec tsx "$PWD/scripts/container-check-client.mjs"

step "SIGTERM drains the surviving gateway and it exits 0"
for node in gateway-1 gateway-2; do
  [ "$("${podman[@]}" inspect --format '{{.State.Running}}' "$NAME-$node")" = true ] || continue
  "${podman[@]}" stop --time 30 "$NAME-$node" >/dev/null 2>&1 # (podman's complaint about systemd timers)
  code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$NAME-$node")
  [ "$code" = 0 ] || fail "$NAME-$node exited $code after SIGTERM"
  logs=$("${podman[@]}" logs "$NAME-$node" 2>&1)
  grep -q 'signal received, draining' <<<"$logs" || fail "$NAME-$node did not log its drain"
  grep -q 'gateway stopped' <<<"$logs" || fail "$NAME-$node did not finish its drain"
  echo "$node: drained on SIGTERM, exit code 0"
done

step "image sizes"
for image in "$GATEWAY_IMAGE" "$DASHBOARD_IMAGE" "$BASE_IMAGE" "$HAPROXY_IMAGE"; do
  "${podman[@]}" images --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$image"
done
echo "container-check: passed in ${SECONDS}s"
