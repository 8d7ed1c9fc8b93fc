import { DeliveryStats } from '@parley/protocol'
import { expect } from 'vitest'
import type { TestGateway } from './test-gateway.js'
import { adminHeaders } from './test-gateway.js'

/** Calls the admin API of a running test gateway and returns status and parsed JSON body. */
export async function admin(
  server: TestGateway,
  path: string,
  init: { method?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.started.url}${path}`, { ...init, headers: adminHeaders() })
  return { status: response.status, body: await response.json() }
}

export async function deliveryStats(server: TestGateway): Promise<DeliveryStats> {
  const { status, body } = await admin(server, '/api/admin/deliveries')
  expect(status).toBe(200)
  return DeliveryStats.parse(body)
}
