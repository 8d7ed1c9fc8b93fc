import type { PairingConnectionInfo } from '@parley/protocol/admin'
import Link from 'next/link'
import { pairingHref } from '@/lib/connection-counts'
import { formatUtc } from '@/lib/format'

/** Devices connected and waiting for the operator's approval, each with a link to approve it. */
export function PairingConnections({ pairing }: { pairing: readonly PairingConnectionInfo[] }) {
  if (pairing.length === 0) return null
  return (
    <>
      <h2>Waiting for pairing</h2>
      <div className="table-wrap">
        <table className="table" data-testid="pairing-connections-table">
          <thead>
            <tr>
              <th>Device</th>
              <th>Request</th>
              <th>Transport</th>
              <th>Remote address</th>
              <th>Connected at</th>
              <th>Action</th>
            </tr>
          </thead>
          <tbody>
            {pairing.map((connection) => (
              <tr
                key={connection.connectionId}
                data-testid="pairing-connection-row"
                data-request-id={connection.requestId ?? undefined}
              >
                <td>{connection.deviceName ?? <span className="muted">—</span>}</td>
                <td className="mono">
                  {connection.requestId ?? <span className="muted">being recorded</span>}
                </td>
                <td>
                  <span className="tag">{connection.transport}</span>
                </td>
                <td className="mono">{connection.remoteAddress ?? '—'}</td>
                <td className="nowrap">{formatUtc(connection.connectedAt)}</td>
                <td className="nowrap">
                  <Link href={pairingHref(connection.requestId)} data-testid="pairing-connection-approve">
                    Approve on the Pairing page
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  )
}
