#!/usr/bin/env node
// `pnpm release [--dry-run]`: builds, checks and packs every published package, then (without --dry-run)
// publishes with Changesets. The versions come from `pnpm changeset version` beforehand (docs/operations.md,
// "Releasing"); publishing with provenance needs CI's OIDC token (`id-token: write`).
//   --dry-run   everything but the publish: the pending changesets, build, `pnpm check`, scripts/pack-check.sh
//               (every tarball linted, installed with npm in an empty folder and run), tarballs in dist/release
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const repoDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const releaseDir = join(repoDir, 'dist', 'release')

let dryRun
try {
  dryRun = parseArgs({ options: { 'dry-run': { type: 'boolean', default: false } } }).values['dry-run']
} catch (error) {
  process.stderr.write(`release: ${error.message}\nusage: pnpm release [--dry-run]\n`)
  process.exit(2)
}

function run(step, command, args) {
  process.stdout.write(`\nrelease: ${step}\n`)
  const result = spawnSync(command, args, { cwd: repoDir, stdio: 'inherit' })
  if (result.status !== 0) {
    process.stderr.write(`release: "${step}" failed (${command} ${args.join(' ')})\n`)
    process.exit(result.status ?? 1)
  }
}

// The plan: the pending changesets and the bumps they ask for. Read from the files rather than with `changeset
// status`, which needs the base branch (`main`) to exist locally, as it does not in a fresh clone of a branch.
function pendingChangesets() {
  const folder = join(repoDir, '.changeset')
  return readdirSync(folder)
    .filter((file) => file.endsWith('.md') && file !== 'README.md')
    .map((file) => {
      const text = readFileSync(join(folder, file), 'utf8')
      const front = /^---\n([\s\S]*?)\n---/.exec(text)?.[1] ?? ''
      const bumps = [...front.matchAll(/^["']?([^"':]+)["']?:\s*(major|minor|patch)\s*$/gm)].map(
        ([, name, bump]) => `${name} ${bump}`,
      )
      return `  ${file}: ${bumps.join(', ') || '(no package)'}`
    })
}
const pending = pendingChangesets()
process.stdout.write(
  `release: pending changesets (\`pnpm version-packages\` applies them)\n${pending.join('\n') || '  none'}\n`,
)
run('build', 'pnpm', ['build'])
run('check (typecheck, lint, dependency rules)', 'pnpm', ['check'])
rmSync(releaseDir, { recursive: true, force: true })
mkdirSync(releaseDir, { recursive: true })
run('pack and run every package from its tarball', 'bash', [
  'scripts/pack-check.sh',
  '--pack-destination',
  releaseDir,
])
process.stdout.write(`\nrelease: tarballs in ${releaseDir}: ${readdirSync(releaseDir).join(', ')}\n`)

if (dryRun) {
  process.stdout.write('release: dry run, nothing published\n')
} else {
  // Publishes each package whose version is not on the registry yet, and tags it.
  run('publish', 'pnpm', ['exec', 'changeset', 'publish'])
}
