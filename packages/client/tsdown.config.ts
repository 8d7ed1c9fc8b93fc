import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts'],
  format: 'esm',
  dts: true,
  // Neutral: the bundle must load in browsers and Node alike; `ws` is only reached through a dynamic import.
  platform: 'neutral',
  clean: true,
  external: ['@parley/protocol', 'ws'],
})
