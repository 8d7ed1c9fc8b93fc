import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/**
 * Where the gateway's build leaves a migrated embedded database (`pnpm build` runs
 * `make-embedded-template.ts`); a new data folder starts as a copy of it instead of running initdb. Resolved
 * through the package's `package.json`, so the built CLI and the source find the same folder; without a
 * build it is missing, and the first start runs initdb.
 */
export function embeddedTemplateDir(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('@parley/gateway/package.json')), 'dist', 'embedded-template')
}
