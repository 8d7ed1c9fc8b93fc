import type { GatewayConfig } from '../config.js'

/** What the start banner needs: the URLs, and the admin token when this start generated it. */
export interface StartBannerInput {
  dashboardUrl: GatewayConfig['dashboardUrl']
  /** Whether the admin token came from the configuration (`PARLEY_ADMIN_TOKEN` / `--admin-token`). */
  adminTokenConfigured: boolean
  gatewayUrl: string
  generatedAdminToken: string | undefined
}

/**
 * The lines the CLI prints on stdout once the gateway listens: where the dashboard is, on every start. The
 * generated admin token rides in the login link's fragment only on the start that generated it; otherwise the
 * link carries no token and the banner says which token to log in with.
 */
export function startBanner(input: StartBannerInput): string {
  const dashboard = input.dashboardUrl.replace(/\/$/, '')
  if (input.generatedAdminToken !== undefined) {
    return [
      '',
      '  Parley admin token (shown once; only its hash is kept in the data folder):',
      '',
      `    ${input.generatedAdminToken}`,
      '',
      `  Dashboard login: ${dashboard}/login#token=${input.generatedAdminToken}`,
      `  Gateway:         ${input.gatewayUrl}`,
      '',
    ].join('\n')
  }
  const tokenSource = input.adminTokenConfigured
    ? 'the admin token from PARLEY_ADMIN_TOKEN (or --admin-token)'
    : 'the admin token printed at the first start'
  return [
    '',
    `  Dashboard login: ${dashboard}/login (log in with ${tokenSource})`,
    `  Gateway:         ${input.gatewayUrl}`,
    '',
  ].join('\n')
}
