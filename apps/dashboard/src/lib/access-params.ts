/**
 * Path parameters of the `/api/gw/{pairing,devices,tokens,agent-keys}` routes, checked before the gateway
 * is called. The bounds are the protocol's (`ApproveCodeRequest`, `RegisterAgentKeyRequest`); ids the
 * gateway issues are far shorter than 128 characters.
 */
export const PARAM_LIMITS = {
  id: 128,
  channelType: 64,
  senderId: 256,
  agentKeyId: 512,
} as const

export type ParamKind = keyof typeof PARAM_LIMITS

export function isParam(kind: ParamKind, value: string): boolean {
  return value.length >= 1 && value.length <= PARAM_LIMITS[kind]
}

/** The 400 message of a parameter out of bounds. */
export function paramMessage(kind: ParamKind): string {
  return `${kind} must be 1 to ${PARAM_LIMITS[kind]} characters`
}
