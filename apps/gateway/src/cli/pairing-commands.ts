import type { PairingDecision } from '@parley/protocol'
import { type AdminApiTarget, AdminCallError, call, formatTable, type Output } from './token-commands.js'

/**
 * `parley pairing …` and `parley devices …`: thin clients of a running gateway's admin API, like
 * `parley token`. Names and ids are printed as the API gives them (a terminal shows no HTML).
 */

export async function listPairing(target: AdminApiTarget, output: Output): Promise<void> {
  const overview = await call(target, 'pairing')
  const lines: string[] = []
  if (overview.pending.length === 0) {
    lines.push('No pending pairing requests.')
  } else {
    lines.push(
      formatTable([
        ['REQUEST', 'CHANNEL', 'SENDER', 'NAME', 'AGE', 'STATE'],
        ...overview.pending.map((request) => [
          request.id,
          request.channelType,
          request.senderId,
          request.displayName ?? '-',
          `${request.ageS}s`,
          request.locked ? 'locked (approve by request id)' : 'pending',
        ]),
      ]),
    )
  }
  lines.push('')
  if (overview.paired.length === 0) {
    lines.push('No paired senders.')
  } else {
    lines.push(
      formatTable([
        ['CHANNEL', 'SENDER', 'NAME', 'PAIRED AT', 'APPROVED BY'],
        ...overview.paired.map((paired) => [
          paired.channelType,
          paired.senderId,
          paired.displayName ?? '-',
          paired.pairedAt,
          paired.approvedBy ?? '-',
        ]),
      ]),
    )
  }
  output.out(lines.join('\n'))
}

function decided(decision: PairingDecision): string {
  return `${decision.senderId} on ${decision.channelType}${decision.requestId === null ? '' : ` (request ${decision.requestId})`}`
}

/** Approves by code (`channelType` + `code`, optionally for one sender) or by request id. */
export async function approvePairing(
  target: AdminApiTarget,
  input: { channelType?: string; code?: string; senderId?: string; requestId?: string },
  output: Output,
): Promise<void> {
  let decision: PairingDecision
  if (input.requestId !== undefined) {
    if (input.channelType !== undefined || input.code !== undefined) {
      throw new AdminCallError('give either --request <id> or <channelType> <code>, not both')
    }
    decision = await call(target, 'approvePairing', { params: { id: input.requestId } })
  } else {
    if (input.channelType === undefined || input.code === undefined) {
      throw new AdminCallError(
        'usage: parley pairing approve <channelType> <code> [--sender <id>] | --request <id>',
      )
    }
    decision = await call(target, 'approvePairingCode', {
      body: {
        channelType: input.channelType,
        code: input.code,
        ...(input.senderId === undefined ? {} : { senderId: input.senderId }),
      },
    })
  }
  output.out(`Approved ${decided(decision)}.`)
}

export async function denyPairing(target: AdminApiTarget, requestId: string, output: Output): Promise<void> {
  const decision = await call(target, 'denyPairing', { params: { id: requestId } })
  output.out(`Denied ${decided(decision)}.`)
}

export async function revokePairing(
  target: AdminApiTarget,
  channelType: string,
  senderId: string,
  output: Output,
): Promise<void> {
  const decision = await call(target, 'revokePairedSender', { params: { channelType, senderId } })
  output.out(`Revoked ${decided(decision)}.`)
}

export async function listDevices(target: AdminApiTarget, output: Output): Promise<void> {
  const { devices } = await call(target, 'devices')
  if (devices.length === 0) {
    output.out('No pending device requests.')
    return
  }
  output.out(
    formatTable([
      ['REQUEST', 'DEVICE', 'PLATFORM', 'ADDRESS', 'IDENTITY', 'EXPIRES'],
      ...devices.map((device) => [
        device.id,
        device.deviceName,
        device.platform ?? '-',
        device.remoteAddress ?? '-',
        device.identity ?? '-',
        device.expiresAt,
      ]),
    ]),
  )
}

export async function approveDevice(
  target: AdminApiTarget,
  id: string,
  grant: { role?: string; scopes: string[] },
  output: Output,
): Promise<void> {
  const device = await call(target, 'approveDevice', {
    params: { id },
    body: {
      ...(grant.role === undefined ? {} : { role: grant.role }),
      ...(grant.scopes.length === 0 ? {} : { scopes: grant.scopes }),
    },
  })
  output.out(
    `Approved device ${device.id} (${device.deviceName}); it was issued token ${device.tokenId ?? '-'}. A waiting device receives it now.`,
  )
}

export async function denyDevice(target: AdminApiTarget, id: string, output: Output): Promise<void> {
  const device = await call(target, 'denyDevice', { params: { id } })
  output.out(`Denied device ${device.id} (${device.deviceName}).`)
}
