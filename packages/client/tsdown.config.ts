import { defineConfig } from 'tsdown'

// `@parley/protocol` and `ws` are dependencies, which tsdown leaves external: installs share one protocol copy.
export default defineConfig({
  // `node` is the Node-only entry (`@parley/client/node`): browser bundles import `index` and never reach node:fs.
  entry: ['src/index.ts', 'src/node.ts'],
  format: 'esm',
  dts: true,
  // Neutral: the bundle must load in browsers and Node alike; `ws` is only reached through a dynamic import.
  platform: 'neutral',
  // Node built-ins, used by the `node` entry only; the neutral platform does not know them.
  deps: { neverBundle: [/^node:/] },
  clean: true,
})
