import {
  A2A_PROTOCOL_VERSION,
  A2A_VERSION_HEADER,
  AGENT_CARD_PATH,
  type AgentCard,
  AgentCard as AgentCardJson,
  canonicalizeAgentCard,
} from '@a2a-js/sdk'
import { DefaultAgentCardResolver } from '@a2a-js/sdk/client'
import { decodeProtectedHeader, flattenedVerify, importJWK, type JWK } from 'jose'

/** Largest card or JWKS the gateway reads (a card lists skills; a few hundred KiB is generous). */
const MAX_DOCUMENT_BYTES = 512 * 1024

/** A card (or its JWKS) could not be fetched or is not a valid A2A card; the message says why. */
export class CardFetchError extends Error {
  override readonly name = 'CardFetchError'
  constructor(
    message: string,
    /** The card was fetched but its signature does not verify. */
    readonly badSignature = false,
  ) {
    super(message)
  }
}

/**
 * The card URL of a registered URL: a URL ending in `.json` is the card itself, any other is the agent's base URL
 * and its card is at `/.well-known/agent-card.json` under it.
 */
export function cardUrlOf(url: string): string {
  const parsed = new URL(url)
  if (parsed.pathname.endsWith('.json')) return parsed.toString()
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/${AGENT_CARD_PATH.replace(/^\//, '')}`
  return parsed.toString()
}

export interface FetchedCard {
  card: AgentCard
  /** null: the card carries no signature; true: one verified with a key published at the card's origin. */
  signatureVerified: boolean | null
}

async function readJson(
  url: string,
  fetchImpl: typeof fetch,
  timeoutMs: number,
  what: string,
): Promise<unknown> {
  let response: Response
  try {
    response = await fetchImpl(url, {
      headers: { accept: 'application/json', [A2A_VERSION_HEADER]: A2A_PROTOCOL_VERSION },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (error) {
    throw new CardFetchError(`${what} ${url} is unreachable: ${reasonOf(error)}`)
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {})
    throw new CardFetchError(`${what} ${url} answered HTTP ${response.status}`)
  }
  const text = await response.text().catch((error: unknown) => {
    throw new CardFetchError(`${what} ${url} could not be read: ${reasonOf(error)}`)
  })
  if (Buffer.byteLength(text, 'utf8') > MAX_DOCUMENT_BYTES) {
    throw new CardFetchError(`${what} ${url} is larger than ${MAX_DOCUMENT_BYTES} bytes`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new CardFetchError(`${what} ${url} is not JSON`)
  }
}

/** The message of an error and of its causes (fetch hides the network reason in `cause`). */
export function reasonOf(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    parts.push(current.message)
    current = current.cause
  }
  return parts.join(': ') || String(error)
}

/**
 * Fetches and validates an external agent's card (v1.0, or v0.3 translated by the SDK's resolver), and verifies
 * its signature when it has one. A signature verifies only with a key from the JWKS its `jku` names on the card's
 * own origin: a key fetched from anywhere would prove nothing. A signed card that does not verify is refused.
 */
export async function fetchAgentCard(
  cardUrl: string,
  options: { fetchImpl: typeof fetch; timeoutMs: number },
): Promise<FetchedCard> {
  const json = await readJson(cardUrl, options.fetchImpl, options.timeoutMs, 'the agent card at')
  let card: AgentCard
  try {
    // The resolver turns a v0.3 card (or the protobuf JSON form) into the v1.0 object and leaves a v1.0 JSON
    // card as it is: that one is read with the SDK's own JSON reader, which fills the defaults.
    const normalized = new DefaultAgentCardResolver({ legacyCompat: { enabled: true } }).normalizeAgentCard(
      json,
    )
    card = normalized === json ? AgentCardJson.fromJSON(json) : normalized
  } catch (error) {
    throw new CardFetchError(`the agent card at ${cardUrl} is not a valid A2A card: ${reasonOf(error)}`)
  }
  if (typeof card.name !== 'string' || card.name.length === 0 || card.supportedInterfaces.length === 0) {
    throw new CardFetchError(
      `the agent card at ${cardUrl} is not a valid A2A card: it needs a name and an interface`,
    )
  }
  if (card.signatures.length === 0) return { card, signatureVerified: null }
  try {
    await verifySignatures(card, new URL(cardUrl).origin, options.timeoutMs)
  } catch (error) {
    throw new CardFetchError(
      `the agent card at ${cardUrl} has a signature that does not verify: ${reasonOf(error)}`,
      true,
    )
  }
  return { card, signatureVerified: true }
}

/**
 * Resolves when one of the card's signatures verifies (JWS over the card's canonical form, as the SDK's
 * `verifyAgentCardSignature` does, without its console output) with a key of the JWKS its `jku` names on the
 * card's own origin; throws the last reason otherwise.
 */
async function verifySignatures(card: AgentCard, origin: string, timeoutMs: number): Promise<void> {
  const payload = Buffer.from(canonicalizeAgentCard(card), 'utf8').toString('base64url')
  let lastError: unknown
  for (const signature of card.signatures) {
    try {
      const header = decodeProtectedHeader({
        protected: signature.protected,
        payload,
        signature: signature.signature,
      })
      const { kid, jku, alg } = header
      if (typeof jku !== 'string' || new URL(jku).origin !== origin) {
        throw new Error(`its key (jku ${jku ?? 'absent'}) is not published at ${origin}`)
      }
      const jwks = (await readJson(jku, fetch, timeoutMs, 'the JWKS at')) as { keys?: JWK[] }
      const key = (Array.isArray(jwks.keys) ? jwks.keys : []).find((candidate) => candidate.kid === kid)
      if (key === undefined) throw new Error(`the JWKS at ${jku} has no key ${kid ?? '(no kid)'}`)
      await flattenedVerify(
        { protected: signature.protected, payload, signature: signature.signature },
        await importJWK(key, alg ?? key.alg),
      )
      return
    } catch (error) {
      lastError = error
    }
  }
  throw lastError
}
