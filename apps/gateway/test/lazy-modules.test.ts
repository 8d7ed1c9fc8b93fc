import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const gatewayDir = fileURLToPath(new URL('..', import.meta.url))

// A fresh process (the test's own has loaded whatever other tests imported): the gateway's module graph, then
// the CommonJS modules Node has loaded for it.
const PROBE = `
await import(${JSON.stringify(fileURLToPath(new URL('../src/create-gateway.ts', import.meta.url)))})
const { createRequire } = await import('node:module')
const loaded = Object.keys(createRequire(process.cwd() + '/').cache)
console.log(JSON.stringify(loaded.filter((path) => /[\\\\/]ioredis[\\\\/]/.test(path))))
`

describe('modules loaded on first use (light default)', () => {
  it('does not load ioredis with the gateway: only a Redis bus or store loads it', () => {
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], {
      cwd: gatewayDir,
      encoding: 'utf8',
    })
    expect(JSON.parse(output.trim().split('\n').at(-1) ?? 'null')).toEqual([])
    // Compiling the gateway's sources in a cold process takes seconds on a busy machine: a bound, not a race.
  }, 60_000)
})
