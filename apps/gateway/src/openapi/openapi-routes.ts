import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Scalar } from '@scalar/hono-api-reference'
import type { GatewayApp } from '../http/create-app.js'
import { errorResponse } from '../http/error-envelope.js'
import { buildOpenApiDocument, type OpenApiDocument } from './openapi-document.js'

export interface OpenApiRouteDeps {
  version: string
  /** The gateway's public base URL (`PARLEY_PUBLIC_URL`), when set: the document's server. */
  publicUrl: string | undefined
}

/**
 * The Scalar bundle the reference page loads: copied into `dist` by the build (so the published package needs
 * no `@scalar/api-reference`), else read from that dev dependency (a source checkout).
 */
export function apiReferenceScriptPath(): string | undefined {
  const require = createRequire(import.meta.url)
  const built = join(dirname(require.resolve('@parley/gateway/package.json')), 'dist', 'api-reference.js')
  if (existsSync(built)) return built
  try {
    return join(dirname(require.resolve('@scalar/api-reference')), 'browser', 'standalone.js')
  } catch {
    return undefined
  }
}

/**
 * `GET /api/openapi.json` (the OpenAPI document, public like `/health`: it holds no secret), `GET /api/docs`
 * (the Scalar reference page) and its script, served by the gateway itself: the page works offline, with no
 * CDN, font service or proxy (those Scalar features are turned off).
 */
export function registerOpenApiRoutes(app: GatewayApp, deps: OpenApiRouteDeps): void {
  let document: OpenApiDocument | undefined
  app.get('/api/openapi.json', (c) => {
    document ??= buildOpenApiDocument(deps.version)
    // Relative without a public URL: the paths are then read against wherever the document was fetched.
    const server = deps.publicUrl?.replace(/\/+$/, '') ?? '/'
    return c.json({ ...document, servers: [{ url: server }] })
  })

  app.get(
    '/api/docs',
    Scalar({
      pageTitle: 'Parley gateway API',
      // Relative, so the page works behind a proxy that serves the gateway under a path.
      url: 'openapi.json',
      cdn: 'docs/scalar.js',
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: 'never',
      documentDownloadType: 'json',
    }),
  )

  app.get('/api/docs/scalar.js', async (c) => {
    const path = apiReferenceScriptPath()
    if (path === undefined) return errorResponse(c, 'not_found', 'the API reference script is not installed')
    c.header('Cache-Control', 'public, max-age=3600')
    return c.body(await readFile(path), 200, { 'content-type': 'text/javascript; charset=utf-8' })
  })
}
