import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * A file the stores read at run time (the migrations folder, the embedded database's worker). The published
 * gateway bundles this package's source into its `dist` and copies these files beside the bundle
 * (apps/gateway/tsdown.config.ts), where no `@parley/stores` package is installed: a file of that name next to
 * the running module wins. In the workspace it is found through this package's own `package.json`.
 */
export function storesAsset(bundledName: string, pathInPackage: string): string {
  const beside = fileURLToPath(new URL(`./${bundledName}`, import.meta.url))
  if (existsSync(beside)) return beside
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('@parley/stores/package.json')), pathInPackage)
}
