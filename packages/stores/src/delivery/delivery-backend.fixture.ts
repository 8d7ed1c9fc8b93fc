import type { DeliveryBackend, DeliveryBackendOptions, PublishInput, SendInput } from './types.js'

/**
 * What the delivery behaviour suites need from an implementation: backends over one store that is
 * empty at the start of each test.
 */
export interface DeliveryBackendFixture {
  /** A backend over the test's store; backends created in one test share it. */
  createBackend(options?: Partial<DeliveryBackendOptions>): Promise<DeliveryBackend>
  /** Called after each test; closes the backends it created. */
  teardown(): Promise<void>
}

export const T0 = Date.parse('2025-03-01T12:00:00.000Z')
export const HOUR = 3_600_000

export const defaultBackendOptions: DeliveryBackendOptions = {
  retention: () => ({ size: 2_000, ttlMs: HOUR }),
  dedupeWindowMs: 60_000,
  messageTtlMs: HOUR,
}

export function publication(
  channel: string,
  index: number,
  overrides: Partial<PublishInput> = {},
): PublishInput {
  return {
    channel,
    id: `msg-${channel}-${index}`,
    source: 'publisher',
    data: { index, text: `hello ${index}` },
    timestamp: T0 + index,
    ...overrides,
  }
}

let sendCounter = 0

export function directMessage(recipient: string, overrides: Partial<SendInput> = {}): SendInput {
  sendCounter += 1
  return {
    messageId: `msg-direct-${sendCounter}`,
    deliveryId: `dlv-direct-${sendCounter}`,
    recipient,
    source: 'sender',
    data: { n: sendCounter },
    timestamp: T0,
    expiresAt: T0 + HOUR,
    receipt: false,
    ...overrides,
  }
}
