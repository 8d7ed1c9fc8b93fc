import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/cli.ts', 'src/index.ts'],
  format: 'esm',
  platform: 'node',
  target: 'node20',
  dts: false,
  clean: true,
  // `.js` (the package is ESM), so `node dist/cli.js` and the `bin` entry work.
  fixedExtension: false,
  // Workspace packages are consumed from source, so they are bundled in; npm dependencies stay external.
  deps: { alwaysBundle: [/^@parley\//] },
})
