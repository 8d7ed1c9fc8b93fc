/**
 * The JSON value a bus message carries, or undefined when the payload is not JSON (a message from another
 * version, or not ours). Bus handlers then check its shape themselves; a payload they cannot read is dropped.
 */
export function readBusPayload(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown
  } catch {
    return undefined
  }
}
