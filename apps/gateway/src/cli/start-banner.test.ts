import { describe, expect, it } from 'vitest'
import { startBanner } from './start-banner.js'

const base = {
  dashboardUrl: 'http://dash.example:3000/',
  gatewayUrl: 'http://127.0.0.1:8765',
}

describe('startBanner', () => {
  it('prints the dashboard URL without a token when PARLEY_ADMIN_TOKEN is set', () => {
    const banner = startBanner({ ...base, adminTokenConfigured: true, generatedAdminToken: undefined })
    expect(banner).toContain('Dashboard login: http://dash.example:3000/login (log in with')
    expect(banner).toContain('PARLEY_ADMIN_TOKEN')
    expect(banner).not.toContain('#token=')
    expect(banner).toContain('Gateway:         http://127.0.0.1:8765')
  })

  it('prints the dashboard URL without a token on a later start that reuses the stored admin token', () => {
    const banner = startBanner({ ...base, adminTokenConfigured: false, generatedAdminToken: undefined })
    expect(banner).toContain('Dashboard login: http://dash.example:3000/login (log in with')
    expect(banner).toContain('printed at the first start')
    expect(banner).not.toContain('#token=')
  })

  it('prints the generated admin token once, with it in the login link fragment', () => {
    const banner = startBanner({ ...base, adminTokenConfigured: false, generatedAdminToken: 'gen-token' })
    expect(banner).toContain('    gen-token\n')
    expect(banner).toContain('Dashboard login: http://dash.example:3000/login#token=gen-token')
  })
})
