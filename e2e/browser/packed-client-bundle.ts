import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const packages = { protocol: join(repo, 'packages/protocol'), client: join(repo, 'packages/client') }

/**
 * A browser bundle of `@parley/client` as npm users get it: both packages packed with `pnpm pack` (the
 * published exports and dist), unpacked into a scratch `node_modules`, and bundled by esbuild for the browser.
 * Their own dependencies (zod, ws's browser stub) come from the workspace. The page gets `window.parley`.
 */
export async function bundlePackedClient(): Promise<string> {
  for (const [name, dir] of Object.entries(packages)) {
    if (!existsSync(join(dir, 'dist/index.js'))) {
      throw new Error(
        `@parley/${name} is not built: run \`pnpm e2e\` (it builds the client) or build it first`,
      )
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'parley-browser-client-'))
  try {
    for (const [name, dir] of Object.entries(packages)) {
      execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: dir, stdio: 'ignore' })
      const tarball = readdirSync(work).find(
        (file) => file.startsWith(`parley-${name}-`) && file.endsWith('.tgz'),
      )
      if (tarball === undefined) throw new Error(`pnpm pack made no tarball for @parley/${name}`)
      const target = join(work, 'node_modules/@parley', name)
      mkdirSync(target, { recursive: true })
      execFileSync('tar', ['-xzf', join(work, tarball), '-C', target, '--strip-components=1'])
    }
    const result = await build({
      stdin: {
        contents: "import * as parley from '@parley/client'\nwindow.parley = parley\n",
        resolveDir: work,
        loader: 'js',
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      nodePaths: [join(packages.client, 'node_modules'), join(packages.protocol, 'node_modules')],
    })
    const bundle = result.outputFiles[0]
    if (bundle === undefined) throw new Error('esbuild wrote no bundle')
    return bundle.text
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
