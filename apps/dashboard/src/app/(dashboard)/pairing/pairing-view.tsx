'use client'

import type { DeviceRequestInfo, PairedSenderInfo, PendingPairingInfo } from '@parley/protocol/admin'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { ActionNotice, type Notice } from '@/components/action-notice'
import { ConfirmButton } from '@/components/confirm-button'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { RoleSelect } from '@/components/role-select'
import { DEFAULT_DEVICE_APPROVAL, type DeviceApprovalForm, deviceApprovalToRequest } from '@/lib/access-forms'
import { browserApi, browserQueries } from '@/lib/browser-api'
import { formatAge, formatCount, formatUtc, secondsBetween } from '@/lib/format'
import { describeFailure, firstFailure } from '@/lib/gateway-result'
import { senderLabel } from '@/lib/pairing-labels'
import { DEVICES_KEY, PAIRING_KEY } from '@/lib/queries'
import { AdminApprovalDialog, approvalNeedsConfirmation } from './admin-approval-dialog'

/**
 * Everyone asking to get in, in one place: chat senders a connector asked about (approve pairs the sender
 * who asked, also after wrong codes locked the request) and devices waiting on an open connection.
 * Every name and address is rendered as text by React.
 */
export function PairingView() {
  const queryClient = useQueryClient()
  const pairingQuery = useQuery(browserQueries.pairing())
  const devicesQuery = useQuery(browserQueries.devices())
  const pairing = pairingQuery.data
  const devices = devicesQuery.data
  const [notice, setNotice] = useState<Notice | undefined>(undefined)

  function refresh() {
    void queryClient.invalidateQueries({ queryKey: PAIRING_KEY })
    void queryClient.invalidateQueries({ queryKey: DEVICES_KEY })
  }

  const decidePairing = useMutation({
    mutationFn: ({ request, decision }: { request: PendingPairingInfo; decision: 'approve' | 'deny' }) =>
      decision === 'approve' ? browserApi.approvePairing(request.id) : browserApi.denyPairing(request.id),
    onSuccess: (result, { request, decision }) => {
      const who = senderLabel(request)
      if (result.ok) {
        setNotice({ tone: 'ok', text: decision === 'approve' ? `Paired ${who}.` : `Denied ${who}.` })
      } else {
        setNotice({ tone: 'error', text: `Could not ${decision} ${who}. ${describeFailure(result.failure)}` })
      }
      refresh()
    },
  })

  const revokePaired = useMutation({
    mutationFn: (sender: PairedSenderInfo) =>
      browserApi.revokePairedSender(sender.channelType, sender.senderId),
    onSuccess: (result, sender) => {
      const who = senderLabel(sender)
      setNotice(
        result.ok
          ? { tone: 'ok', text: `Revoked ${who}: it must pair again.` }
          : { tone: 'error', text: `Could not revoke ${who}. ${describeFailure(result.failure)}` },
      )
      refresh()
    },
  })

  const decideDevice = useMutation({
    mutationFn: ({
      device,
      approval,
    }: {
      device: DeviceRequestInfo
      approval: DeviceApprovalForm | null
    }) => {
      if (approval === null) return browserApi.denyDevice(device.id)
      const body = deviceApprovalToRequest(approval)
      if (!body.ok) {
        return Promise.resolve({
          ok: false as const,
          failure: { kind: 'http' as const, status: 400, code: 'invalid_form', message: body.message },
        })
      }
      return browserApi.approveDevice(device.id, body.request)
    },
    onSuccess: (result, { device, approval }) => {
      const verb = approval === null ? 'deny' : 'approve'
      const who = `device ${JSON.stringify(device.deviceName)} (${device.id})`
      if (result.ok) {
        setNotice({
          tone: 'ok',
          text:
            approval === null
              ? `Denied ${who}.`
              : device.identity === null
                ? `Approved ${who}: it received its own token.`
                : `Approved ${who}: it received its own token and its agent key ${device.identity} is registered.`,
        })
      } else {
        setNotice({ tone: 'error', text: `Could not ${verb} ${who}. ${describeFailure(result.failure)}` })
      }
      refresh()
    },
  })

  const pending = pairing?.ok ? pairing.data.pending : []
  const paired = pairing?.ok ? pairing.data.paired : []
  // Only waiting devices can be decided; the list may also hold ones decided a moment ago.
  const waitingDevices = devices?.ok
    ? devices.data.devices.filter((device) => device.status === 'pending')
    : []
  const busy = decidePairing.isPending || revokePaired.isPending || decideDevice.isPending

  return (
    <section data-testid="pairing-page">
      <h1>Pairing</h1>
      <GatewayErrorBanner failure={firstFailure(pairing, devices)} />
      <ActionNotice notice={notice} testIdPrefix="pairing-action" />

      <div className="section-head">
        <h2>Chat senders waiting</h2>
        <span className="muted small">oldest first · refreshes every 2 seconds · times in UTC</span>
      </div>
      <PendingTable
        requests={pending}
        loading={pairingQuery.isPending}
        busy={busy}
        onApprove={(request) => decidePairing.mutate({ request, decision: 'approve' })}
        onDeny={(request) => decidePairing.mutate({ request, decision: 'deny' })}
      />

      <div className="section-head">
        <h2>Devices waiting</h2>
        <span className="muted small">a device gives up after 5 minutes</span>
      </div>
      <DevicesTable
        devices={waitingDevices}
        asOf={devicesQuery.dataUpdatedAt}
        loading={devicesQuery.isPending}
        busy={busy}
        onApprove={(device, approval) => decideDevice.mutate({ device, approval })}
        onDeny={(device) => decideDevice.mutate({ device, approval: null })}
      />

      <div className="section-head">
        <h2>Paired senders</h2>
        <span className="muted small">{formatCount(paired.length)} paired</span>
      </div>
      <PairedTable senders={paired} busy={busy} onRevoke={(sender) => revokePaired.mutate(sender)} />
    </section>
  )
}

function Text({ value }: { value: string | null }) {
  return value === null || value === '' ? <span className="muted">—</span> : value
}

function EmptyRow({ columns, text }: { columns: number; text: string }) {
  return (
    <tr>
      <td colSpan={columns} className="empty">
        {text}
      </td>
    </tr>
  )
}

function PendingTable({
  requests,
  loading,
  busy,
  onApprove,
  onDeny,
}: {
  requests: readonly PendingPairingInfo[]
  loading: boolean
  busy: boolean
  onApprove: (request: PendingPairingInfo) => void
  onDeny: (request: PendingPairingInfo) => void
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="pairing-requests-table">
        <thead>
          <tr>
            <th>Channel type</th>
            <th>Sender</th>
            <th>Display name</th>
            <th>Age</th>
            <th className="num">Wrong codes</th>
            <th>Expires</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {requests.length === 0 ? (
            <EmptyRow columns={7} text={loading ? 'Loading…' : 'No chat sender is waiting.'} />
          ) : (
            requests.map((request) => (
              <tr key={request.id} data-testid="pairing-request-row" data-request-id={request.id}>
                <td className="mono">{request.channelType}</td>
                <td className="mono">{request.senderId}</td>
                <td data-testid="pairing-request-name">
                  <Text value={request.displayName} />
                </td>
                <td className="nowrap">{formatAge(request.ageS)}</td>
                <td className="num">
                  {formatCount(request.failedAttempts)}{' '}
                  {request.locked ? (
                    <span
                      className="tag tag-warn"
                      title="Too many wrong codes: codes are refused, the operator can still approve"
                      data-testid="pairing-request-locked"
                    >
                      locked
                    </span>
                  ) : null}
                </td>
                <td className="nowrap">{formatUtc(request.expiresAt)}</td>
                <td>
                  <ApproveDenyButtons
                    busy={busy}
                    onApprove={() => onApprove(request)}
                    onDeny={() => onDeny(request)}
                    testIdPrefix="pairing"
                  />
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  )
}

function DevicesTable({
  devices,
  asOf,
  loading,
  busy,
  onApprove,
  onDeny,
}: {
  devices: readonly DeviceRequestInfo[]
  /** When the list was fetched: ages are measured from it, so the server and browser render the same. */
  asOf: number
  loading: boolean
  busy: boolean
  onApprove: (device: DeviceRequestInfo, approval: DeviceApprovalForm) => void
  onDeny: (device: DeviceRequestInfo) => void
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="device-requests-table">
        <thead>
          <tr>
            <th>Device</th>
            <th>Platform</th>
            <th>Address</th>
            <th>Agent identity</th>
            <th>Age</th>
            <th>Request</th>
            <th>Approve as</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {devices.length === 0 ? (
            <EmptyRow columns={8} text={loading ? 'Loading…' : 'No device is waiting.'} />
          ) : (
            devices.map((device) => (
              <DeviceRow
                key={device.id}
                device={device}
                asOf={asOf}
                busy={busy}
                onApprove={(approval) => onApprove(device, approval)}
                onDeny={() => onDeny(device)}
              />
            ))
          )}
        </tbody>
      </table>
    </div>
  )
}

function DeviceRow({
  device,
  asOf,
  busy,
  onApprove,
  onDeny,
}: {
  device: DeviceRequestInfo
  asOf: number
  busy: boolean
  onApprove: (approval: DeviceApprovalForm) => void
  onDeny: () => void
}) {
  const [approval, setApproval] = useState<DeviceApprovalForm>(DEFAULT_DEVICE_APPROVAL)
  const [confirming, setConfirming] = useState(false)
  const age = secondsBetween(device.createdAt, asOf)
  return (
    <tr id={`device-${device.id}`} data-testid="device-request-row" data-request-id={device.id}>
      <td data-testid="device-request-name">{device.deviceName}</td>
      <td>
        <Text value={device.platform} />
      </td>
      <td className="mono">
        <Text value={device.remoteAddress} />
      </td>
      {/* The did:key approval registers (with the role and scopes chosen here); shown as text. */}
      <td className="mono small" data-testid="device-request-identity">
        <Text value={device.identity} />
      </td>
      <td className="nowrap">{age === null ? '—' : formatAge(age)}</td>
      <td className="mono small">{device.id}</td>
      <td>
        <div className="row-form">
          <RoleSelect
            value={approval.role}
            onChange={(role) => setApproval((current) => ({ ...current, role }))}
            testId="device-approve-role"
          />
          <input
            aria-label="Scopes"
            value={approval.scopes}
            onChange={(e) => setApproval((current) => ({ ...current, scopes: e.target.value }))}
            placeholder="publish:alerts.* subscribe:*"
            data-testid="device-approve-scopes"
          />
        </div>
      </td>
      <td>
        <ApproveDenyButtons
          busy={busy}
          onApprove={() => (approvalNeedsConfirmation(approval) ? setConfirming(true) : onApprove(approval))}
          onDeny={onDeny}
          testIdPrefix="device"
        />
        <AdminApprovalDialog
          device={device}
          approval={approval}
          open={confirming}
          onConfirm={() => {
            setConfirming(false)
            onApprove(approval)
          }}
          onCancel={() => setConfirming(false)}
        />
      </td>
    </tr>
  )
}

function PairedTable({
  senders,
  busy,
  onRevoke,
}: {
  senders: readonly PairedSenderInfo[]
  busy: boolean
  onRevoke: (sender: PairedSenderInfo) => void
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="paired-senders-table">
        <thead>
          <tr>
            <th>Channel type</th>
            <th>Sender</th>
            <th>Display name</th>
            <th>Paired at</th>
            <th>Approved by</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {senders.length === 0 ? (
            <EmptyRow columns={6} text="No paired sender." />
          ) : (
            senders.map((sender) => (
              <tr
                key={`${sender.channelType}\u0000${sender.senderId}`}
                data-testid="paired-sender-row"
                data-channel-type={sender.channelType}
                data-sender-id={sender.senderId}
              >
                <td className="mono">{sender.channelType}</td>
                <td className="mono">{sender.senderId}</td>
                <td data-testid="paired-sender-name">
                  <Text value={sender.displayName} />
                </td>
                <td className="nowrap">{formatUtc(sender.pairedAt)}</td>
                <td>
                  <Text value={sender.approvedBy} />
                </td>
                <td>
                  <ConfirmButton
                    label="Revoke"
                    question={`Revoke ${senderLabel(sender)}? It will have to pair again.`}
                    confirmLabel="Revoke"
                    disabled={busy}
                    small
                    onConfirm={() => onRevoke(sender)}
                    testId="paired-revoke"
                  />
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  )
}

/** The decision buttons of a waiting request (chat sender or device); test ids `<prefix>-approve` / `-deny`. */
function ApproveDenyButtons({
  busy,
  onApprove,
  onDeny,
  testIdPrefix,
}: {
  busy: boolean
  onApprove: () => void
  onDeny: () => void
  testIdPrefix: 'pairing' | 'device'
}) {
  return (
    <div className="row-actions">
      <button
        type="button"
        className="button small"
        disabled={busy}
        onClick={onApprove}
        data-testid={`${testIdPrefix}-approve`}
      >
        Approve
      </button>
      <button
        type="button"
        className="button secondary danger small"
        disabled={busy}
        onClick={onDeny}
        data-testid={`${testIdPrefix}-deny`}
      >
        Deny
      </button>
    </div>
  )
}
