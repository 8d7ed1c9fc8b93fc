'use client'

import type { DeviceRequestInfo } from '@parley/protocol/admin'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { type DeviceApprovalForm, parseScopes } from '@/lib/access-forms'

/** Roles whose approval is asked again: a device approved with one of these can run the gateway. */
const CONFIRMED_ROLES: ReadonlySet<string> = new Set(['admin'])

/** Whether approving a device with this form needs the operator to confirm first. */
export function approvalNeedsConfirmation(approval: DeviceApprovalForm): boolean {
  return CONFIRMED_ROLES.has(approval.role)
}

/**
 * The question before a device gets an `admin` token: it names the device, the role and every scope it will
 * hold, so one stray click cannot hand out the gateway's keys.
 */
export function AdminApprovalDialog({
  device,
  approval,
  open,
  onConfirm,
  onCancel,
}: {
  device: DeviceRequestInfo
  approval: DeviceApprovalForm
  open: boolean
  onConfirm: () => void
  onCancel: () => void
}) {
  const scopes = parseScopes(approval.scopes)
  return (
    <ConfirmDialog
      open={open}
      title={`Approve ${JSON.stringify(device.deviceName)} as ${approval.role}?`}
      confirmLabel={`Approve as ${approval.role}`}
      onConfirm={onConfirm}
      onCancel={onCancel}
      testId="device-approve-dialog"
    >
      <p>
        The device gets its own token with role{' '}
        <strong data-testid="device-approve-dialog-role">{approval.role}</strong>: it can use the admin API
        (tokens, policies, pairing, dead letters) like this dashboard.
      </p>
      <p>
        Scopes:{' '}
        <span data-testid="device-approve-dialog-scopes">
          {scopes.length === 0 ? 'none' : <code>{scopes.join(' ')}</code>}
        </span>
      </p>
      <p className="muted small">
        Request <code>{device.id}</code>
        {device.remoteAddress === null ? null : (
          <>
            {' '}
            from <code>{device.remoteAddress}</code>
          </>
        )}
      </p>
    </ConfirmDialog>
  )
}
