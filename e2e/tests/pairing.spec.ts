import {
  CreatedToken,
  PairingApprovedFrame,
  PairingCheckResult,
  PairingOverview,
  PairingResolvedFrame,
} from '@parley/protocol'
import { expect, type Page, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { adminApi, logIn, recordDialogs, uniqueName } from '../helpers.js'
import { RawParleyClient } from '../raw-client.js'

const MARKUP = '<img src=x onerror=alert(1)>'
const CHANNEL_TYPE = 'e2e-chat'

/** A connector connection, with a fresh `connector` token created through the admin API. */
async function connectConnector(): Promise<RawParleyClient> {
  const created = await adminApi('POST', '/api/admin/tokens', {
    name: uniqueName('e2e-connector'),
    role: 'connector',
  })
  expect(created.status).toBe(201)
  const { token } = CreatedToken.parse(created.body)
  return RawParleyClient.connect(E2E.wsUrl, uniqueName('e2e-connector'), token)
}

async function pairingCheck(
  connector: RawParleyClient,
  senderId: string,
  displayName?: string,
): Promise<PairingCheckResult> {
  return PairingCheckResult.parse(
    await connector.request({
      type: 'pairing_check',
      channelType: CHANNEL_TYPE,
      senderId,
      ...(displayName === undefined ? {} : { displayName }),
    }),
  )
}

async function openPairingPage(page: Page): Promise<void> {
  await logIn(page)
  await page.getByTestId('nav-pairing').click()
  await expect(page.getByTestId('pairing-page')).toBeVisible()
}

function pendingRow(page: Page, requestId: string) {
  return page.locator(`[data-testid="pairing-request-row"][data-request-id="${requestId}"]`)
}

test('a connector gets a code for a new sender, the operator approves it on the Pairing page, the connector hears it and the sender is paired', async ({
  page,
}) => {
  const dialogs = recordDialogs(page)
  const senderId = uniqueName('e2e-sender')
  const connector = await connectConnector()
  try {
    const first = await pairingCheck(connector, senderId, MARKUP)
    expect(first).toMatchObject({ status: 'pending', policy: 'pair' })
    expect(first.code).toMatch(/^[A-Z0-9]{8}$/)
    const requestId = first.requestId as string
    // One live code per sender: asking again gives the same code and request.
    const repeat = await pairingCheck(connector, senderId, MARKUP)
    expect(repeat).toMatchObject({ status: 'pending', code: first.code, requestId })

    await openPairingPage(page)
    const row = pendingRow(page, requestId)
    await expect(row).toBeVisible()
    await expect(row).toContainText(CHANNEL_TYPE)
    await expect(row).toContainText(senderId)
    // The display name is text: shown literally, no element made from it.
    await expect(row.getByTestId('pairing-request-name')).toHaveText(MARKUP)
    await expect(page.locator('img[src="x"]')).toHaveCount(0)

    const resolved = connector.waitFor(
      (frame) => frame.type === 'pairing_resolved' && frame.senderId === senderId,
    )
    await row.getByTestId('pairing-approve').click()
    await expect(page.getByTestId('pairing-action-result')).toContainText(`Paired "${MARKUP}"`)
    expect(PairingResolvedFrame.parse(await resolved)).toMatchObject({
      requestId,
      channelType: CHANNEL_TYPE,
      senderId,
      status: 'approved',
    })
    await expect(row).toHaveCount(0)
    const paired = page.locator(`[data-testid="paired-sender-row"][data-sender-id="${senderId}"]`)
    await expect(paired.getByTestId('paired-sender-name')).toHaveText(MARKUP)

    // The sender who asked is paired, not the code.
    expect(await pairingCheck(connector, senderId)).toMatchObject({ status: 'allowed' })
    expect(await pairingCheck(connector, first.code as string)).toMatchObject({ status: 'pending' })

    // Revoking asks first in place; then the sender must pair again and the connector hears it.
    await paired.getByTestId('paired-revoke').click()
    await paired.getByTestId('paired-revoke-cancel').click()
    await expect(paired).toBeVisible()
    const revoked = connector.waitFor(
      (frame) =>
        frame.type === 'pairing_resolved' && frame.senderId === senderId && frame.status === 'revoked',
    )
    await paired.getByTestId('paired-revoke').click()
    await paired.getByTestId('paired-revoke-confirm').click()
    await revoked
    await expect(paired).toHaveCount(0)
    expect(await pairingCheck(connector, senderId)).toMatchObject({ status: 'pending' })

    await expect(page.locator('img[src="x"]')).toHaveCount(0)
    expect(dialogs).toEqual([])
  } finally {
    await connector.close()
  }
})

test('wrong codes lock a pairing request against guesses, and the operator can still approve it from the page', async ({
  page,
}) => {
  const senderId = uniqueName('e2e-guessed')
  const connector = await connectConnector()
  try {
    const check = await pairingCheck(connector, senderId, 'Mallory target')
    const code = check.code as string
    const requestId = check.requestId as string
    const wrongCode = code === 'ZZZZZZZZ' ? 'YYYYYYYY' : 'ZZZZZZZZ'

    // Each wrong guess is refused as unknown and counted; after the limit the request refuses guesses.
    const statuses: number[] = []
    for (let attempt = 0; attempt <= E2E.pairing.maxFailedAttempts; attempt += 1) {
      const guess = await adminApi('POST', '/api/admin/pairing/approve', {
        channelType: CHANNEL_TYPE,
        code: wrongCode,
        senderId,
      })
      statuses.push(guess.status)
    }
    expect(statuses).toEqual([...Array<number>(E2E.pairing.maxFailedAttempts).fill(404), 409])
    // Locked means locked: even the right code is refused now.
    const rightCode = await adminApi('POST', '/api/admin/pairing/approve', {
      channelType: CHANNEL_TYPE,
      code,
      senderId,
    })
    expect(rightCode.status).toBe(409)
    const overview = PairingOverview.parse((await adminApi('GET', '/api/admin/pairing')).body)
    const locked = overview.pending.find((request) => request.id === requestId)
    expect(locked).toMatchObject({ locked: true, failedAttempts: E2E.pairing.maxFailedAttempts })

    await openPairingPage(page)
    const row = pendingRow(page, requestId)
    await expect(row.getByTestId('pairing-request-locked')).toHaveText('locked')
    await expect(row).toContainText(`${E2E.pairing.maxFailedAttempts} locked`)

    const resolved = connector.waitFor(
      (frame) => frame.type === 'pairing_resolved' && frame.senderId === senderId,
    )
    await row.getByTestId('pairing-approve').click()
    expect(PairingResolvedFrame.parse(await resolved)).toMatchObject({ requestId, status: 'approved' })
    await expect(row).toHaveCount(0)
    expect(await pairingCheck(connector, senderId)).toMatchObject({ status: 'allowed' })
  } finally {
    await connector.close()
  }
})

test('a waiting device approved on the Pairing page gets its token and welcome, then exchanges messages', async ({
  page,
}) => {
  const dialogs = recordDialogs(page)
  const deviceName = `${uniqueName('e2e-tablet')} ${MARKUP}`
  const { client: device, requestId } = await RawParleyClient.requestDevicePairing(E2E.wsUrl, {
    name: deviceName,
    platform: 'android',
  })
  let listener: RawParleyClient | undefined
  let again: RawParleyClient | undefined
  try {
    await openPairingPage(page)
    const row = page.locator(`[data-testid="device-request-row"][data-request-id="${requestId}"]`)
    await expect(row.getByTestId('device-request-name')).toHaveText(deviceName)
    await expect(row).toContainText('android')
    await expect(page.locator('img[src="x"]')).toHaveCount(0)
    // The defaults the protocol documents: a client with every scope.
    await expect(row.getByTestId('device-approve-role')).toHaveValue('client')
    await expect(row.getByTestId('device-approve-scopes')).toHaveValue('*:*')

    const approved = device.waitFor((frame) => frame.type === 'pairing_approved')
    const welcomed = device.waitFor((frame) => frame.type === 'welcome')
    await row.getByTestId('device-approve').click()
    const approval = PairingApprovedFrame.parse(await approved)
    expect(approval.requestId).toBe(requestId)
    expect(approval.token.length).toBeGreaterThan(0)
    await welcomed
    await expect(page.getByTestId('pairing-action-result')).toContainText('Approved')
    await expect(row).toHaveCount(0)

    // The paired device talks: what it publishes reaches another client.
    const channel = uniqueName('e2e-device-channel')
    listener = await RawParleyClient.connect(E2E.wsUrl, uniqueName('e2e-listener'))
    await listener.request({ type: 'subscribe', channel })
    const received = listener.waitFor(
      (frame) => frame.type === 'channel_message' && frame.channel === channel,
    )
    await device.request({ type: 'publish', channel, data: { from: 'tablet' } })
    expect((await received).data).toEqual({ from: 'tablet' })

    // Its token is its own from now on: a new connection with it is welcome.
    again = await RawParleyClient.connect(E2E.wsUrl, uniqueName('e2e-tablet-again'), approval.token)
    expect(dialogs).toEqual([])
  } finally {
    await Promise.all([device.close(), listener?.close(), again?.close()])
  }
})

test('a device denied on the Pairing page gets pairing_denied and is closed with 4009', async ({ page }) => {
  const { client: device, requestId } = await RawParleyClient.requestDevicePairing(E2E.wsUrl, {
    name: uniqueName('e2e-unknown-laptop'),
  })
  try {
    await openPairingPage(page)
    const row = page.locator(`[data-testid="device-request-row"][data-request-id="${requestId}"]`)
    await expect(row).toBeVisible()
    const denied = device.waitFor((frame) => frame.type === 'error')
    await row.getByTestId('device-deny').click()
    expect(await denied).toMatchObject({ code: 'pairing_denied' })
    expect((await device.closed).code).toBe(4009)
    await expect(row).toHaveCount(0)
  } finally {
    await device.close()
  }
})
