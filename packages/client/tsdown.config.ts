import { defineConfig } from 'tsdown'

// `@parley/protocol` and `ws` are dependencies, which tsdown leaves external: installs share one protocol copy.
export default defineConfig({
  entry: ['src/index.ts'],
  format: 'esm',
  dts: true,
  // Neutral: the bundle must load in browsers and Node alike; `ws` is only reached through a dynamic import.
  platform: 'neutral',
  clean: true,
})
