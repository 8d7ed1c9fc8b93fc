#!/usr/bin/env bash
# publint + attw on the tarball pnpm would publish. `attw --pack` runs `npm pack`, which ignores the
# publishConfig.exports override pnpm applies, so it would check the workspace (src) exports instead.
set -euo pipefail
package_dir="$(pwd)"
bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/node_modules/.bin"
out="$(mktemp -d "${TMPDIR:-/tmp}/parley-lint-package.XXXXXX")"
trap 'rm -rf "$out"' EXIT
(cd "$package_dir" && pnpm pack --pack-destination "$out" >/dev/null)
tarball="$(ls "$out"/*.tgz)"
"$bin/publint" "$tarball"
"$bin/attw" "$tarball" --profile esm-only
