#!/usr/bin/env bash
# publint + attw on the tarball pnpm would publish, for the package in the current folder.
# `attw --pack` runs `npm pack`, which ignores the publishConfig.exports override pnpm applies, so it would
# check the workspace (src) exports instead.
set -euo pipefail
out="$(mktemp -d "${TMPDIR:-/tmp}/parley-lint-package.XXXXXX")"
trap 'rm -rf "$out"' EXIT
pnpm pack --pack-destination "$out" >/dev/null
tarball="$(ls "$out"/*.tgz)"
pnpm exec publint "$tarball"
pnpm exec attw "$tarball" --profile esm-only
