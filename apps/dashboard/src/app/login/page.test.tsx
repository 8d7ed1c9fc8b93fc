// @vitest-environment happy-dom
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import LoginPage from './page'

afterEach(() => {
  cleanup()
  vi.unstubAllEnvs()
})

/** A port nothing listens on: a server started on port 0, then closed. */
async function closedPort(): Promise<number> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function loginPageWith(error: string) {
  vi.stubEnv('PARLEY_GATEWAY_URL', `http://127.0.0.1:${await closedPort()}`)
  render(await LoginPage({ searchParams: Promise.resolve({ error }) }))
}

describe('the login page with the gateway down', () => {
  it('says the gateway is unreachable once, not again as a login error', async () => {
    await loginPageWith('unreachable')
    expect(screen.getAllByRole('alert')).toHaveLength(1)
    expect(screen.getByTestId('gateway-error').textContent).toContain('Gateway unreachable')
    expect(screen.queryByTestId('login-error')).toBeNull()
  })

  it('still says why the last login failed when that is another reason', async () => {
    await loginPageWith('expired')
    expect(screen.getByTestId('login-error').textContent).toContain('Your session has ended')
    expect(screen.getAllByTestId('gateway-error')).toHaveLength(1)
  })
})
