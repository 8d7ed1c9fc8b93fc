import type { GatewayApp } from '../http/create-app.js'
import type { DevicePairing } from '../pairing/device-pairing.js'
import { mountAdminRoutes } from './admin-routes.js'
import { checkScopes } from './request-body.js'

export interface DeviceRouteDeps {
  devices: DevicePairing
}

/**
 * Device pairing for the operator: `GET /api/admin/devices` (pending requests, oldest first), approve (the
 * device gets a token with the given role and scopes) and deny (the waiting device is closed with 4009).
 */
export function registerDeviceRoutes(app: GatewayApp, deps: DeviceRouteDeps): void {
  const { devices } = deps

  mountAdminRoutes(app, {
    devices: async () => ({ devices: await devices.listPending() }),
    approveDevice: async (c, request) => {
      const { id } = request.params
      c.set('adminAction', `device approve ${id}`)
      // An empty body takes the defaults (role client, every scope).
      const grant = await request.body()
      checkScopes(grant.scopes)
      const body = await devices.approve(id, grant)
      c.set(
        'adminAction',
        `device approve ${id} name=${JSON.stringify(body.deviceName)} token=${body.tokenId ?? '-'} role=${grant.role} scopes=${grant.scopes.join(' ') || '-'}`,
      )
      return body
    },
    denyDevice: async (c, { params: { id } }) => {
      c.set('adminAction', `device deny ${id}`)
      const body = await devices.deny(id)
      c.set('adminAction', `device deny ${id} name=${JSON.stringify(body.deviceName)}`)
      return body
    },
  })
}
