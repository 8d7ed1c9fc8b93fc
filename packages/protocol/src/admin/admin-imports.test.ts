import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// The dashboard bundles these files from source, and its bundler cannot map `./x.js` specifiers to `.ts` files
// (see apps/dashboard/next.config.ts): an admin module may import only zod and other admin modules as `#admin/*`.
describe('admin schema modules', () => {
  it('import nothing but zod and #admin/* modules, so the dashboard can bundle them from source', () => {
    const folder = new URL('./', import.meta.url)
    const offending: string[] = []
    for (const file of readdirSync(folder)) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue
      const source = readFileSync(new URL(file, folder), 'utf8')
      for (const match of source.matchAll(/\bfrom\s+'([^']+)'/g)) {
        const specifier = match[1] ?? ''
        if (specifier !== 'zod' && !specifier.startsWith('#admin/')) offending.push(`${file}: ${specifier}`)
      }
    }
    expect(offending).toEqual([])
  })
})
