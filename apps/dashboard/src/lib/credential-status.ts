/** Whether a token or agent key still lets anyone in, for the Access page's status column. */
export type CredentialStatus = 'active' | 'expired' | 'revoked'

/** Revoked wins over expired: revocation is the operator's own decision and is what they look for. */
export function credentialStatus(
  credential: { revokedAt: string | null; expiresAt?: string | null },
  now: number,
): CredentialStatus {
  if (credential.revokedAt !== null) return 'revoked'
  const expiresAt = credential.expiresAt ?? null
  if (expiresAt !== null) {
    const time = Date.parse(expiresAt)
    if (!Number.isNaN(time) && time <= now) return 'expired'
  }
  return 'active'
}
