/**
 * Schemas of the gateway's HTTP answers (health and the admin API) and the admin endpoint table. The gateway
 * builds its routes and answers from them and the dashboard its calls, so both sides agree on one definition.
 *
 * The files import each other through the package's `#admin/*` subpath imports, not `./x.js` paths: the
 * dashboard's bundler (Turbopack) cannot map `./x.js` to `x.ts` (vercel/next.js#82945), and this entry is the
 * one it consumes from source.
 */
export * from '#admin/access'
export * from '#admin/agent-map'
export * from '#admin/agents'
export * from '#admin/audit'
export * from '#admin/audit-verification'
export * from '#admin/cluster'
export * from '#admin/deliveries'
export * from '#admin/endpoint-table'
export * from '#admin/endpoints'
export * from '#admin/http'
export * from '#admin/timeseries'
export * from '#admin/upstreams'
