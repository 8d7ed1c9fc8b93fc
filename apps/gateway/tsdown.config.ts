import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { defineConfig } from 'tsdown'

const storesDir = '../../packages/stores'

export default defineConfig({
  entry: ['src/cli.ts', 'src/index.ts'],
  format: 'esm',
  platform: 'node',
  target: 'node20',
  dts: false,
  clean: true,
  // `.js` (the package is ESM), so `node dist/cli.js` and the `bin` entry work.
  fixedExtension: false,
  // The workspace packages (`@parley/stores`, `@parley/protocol`) are consumed from source and bundled in, so
  // the published gateway runs on npm packages only. So are the two dependencies the workspace patches
  // (pnpm-workspace.yaml, patchedDependencies): an npm install of the gateway would get them unpatched
  // (`postgres` stays a dependency as well: drizzle-orm's driver module imports it, the gateway never calls
  // that copy). The other npm dependencies stay external.
  deps: { alwaysBundle: [/^@parley\//, /^@hono\/node-server(\/|$)/, /^postgres$/] },
  hooks: {
    // Files the bundled stores read at run time, beside the bundle (see packages/stores/src/assets.ts): the
    // migrations, applied at start-up to PGlite or PostgreSQL, and the embedded database's worker thread.
    'build:done': async () => {
      await cp(join(storesDir, 'drizzle'), 'dist/drizzle', { recursive: true })
      await cp(join(storesDir, 'src/embedded/pglite-worker.mjs'), 'dist/pglite-worker.mjs')
    },
  },
})
