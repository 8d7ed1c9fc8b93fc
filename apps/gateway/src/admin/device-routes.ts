import { ApproveDeviceRequest, type DeviceRequestInfo, type DeviceRequestList } from '@parley/protocol'
import type { GatewayApp } from '../http/create-app.js'
import type { DevicePairing } from '../pairing/device-pairing.js'
import { checkScopes, parseBody } from './request-body.js'

export interface DeviceRouteDeps {
  devices: DevicePairing
}

/**
 * Device pairing for the operator: `GET /api/admin/devices` (pending requests, oldest first), approve (the
 * device gets a token with the given role and scopes) and deny (the waiting device is closed with 4009).
 */
export function registerDeviceRoutes(app: GatewayApp, deps: DeviceRouteDeps): void {
  const { devices } = deps

  app.get('/api/admin/devices', async (c) => {
    const body: DeviceRequestList = { devices: await devices.listPending() }
    return c.json(body)
  })

  app.post('/api/admin/devices/:id/approve', async (c) => {
    const id = c.req.param('id')
    c.set('adminAction', `device approve ${id}`)
    // An empty body takes the defaults (role client, every scope).
    const text = await c.req.text()
    let json: unknown = {}
    if (text.trim() !== '')
      json = await Promise.resolve()
        .then(() => JSON.parse(text))
        .catch(() => undefined)
    const grant = parseBody(ApproveDeviceRequest, json, 'device approval')
    checkScopes(grant.scopes)
    const body: DeviceRequestInfo = await devices.approve(id, grant)
    c.set(
      'adminAction',
      `device approve ${id} name=${JSON.stringify(body.deviceName)} token=${body.tokenId ?? '-'} role=${grant.role} scopes=${grant.scopes.join(' ') || '-'}`,
    )
    return c.json(body)
  })

  app.post('/api/admin/devices/:id/deny', async (c) => {
    const id = c.req.param('id')
    c.set('adminAction', `device deny ${id}`)
    const body: DeviceRequestInfo = await devices.deny(id)
    c.set('adminAction', `device deny ${id} name=${JSON.stringify(body.deviceName)}`)
    return c.json(body)
  })
}
