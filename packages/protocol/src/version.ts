/** The protocol versions this build speaks. A `hello` names a range; the server picks the highest common one. */
export const PROTOCOL_VERSION = 1
export const MIN_PROTOCOL_VERSION = 1

/** Picks the highest version inside both ranges, or `undefined` when they do not overlap. */
export function negotiateVersion(
  client: { min: number; max: number },
  server: { min: number; max: number } = { min: MIN_PROTOCOL_VERSION, max: PROTOCOL_VERSION },
): number | undefined {
  const high = Math.min(client.max, server.max)
  const low = Math.max(client.min, server.min)
  return high >= low ? high : undefined
}
