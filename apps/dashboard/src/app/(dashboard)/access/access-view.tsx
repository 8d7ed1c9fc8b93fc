'use client'

import type {
  AgentKeyInfo,
  CreatedToken,
  CreateTokenRequest,
  RegisterAgentKeyRequest,
  TokenInfo,
} from '@parley/protocol/admin'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { ActionNotice, type Notice } from '@/components/action-notice'
import { ConfirmButton } from '@/components/confirm-button'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { browserApi, browserQueries } from '@/lib/browser-api'
import { credentialStatus } from '@/lib/credential-status'
import { formatScopes, formatUtc } from '@/lib/format'
import { describeFailure, firstFailure } from '@/lib/gateway-result'
import { AGENT_KEYS_KEY, TOKENS_KEY } from '@/lib/queries'
import { AgentKeyRegisterForm } from './agent-key-form'
import { CreatedTokenSecret } from './created-token-secret'
import { SessionsSection } from './sessions-section'
import { TokenCreateForm } from './token-create-form'

/**
 * Credentials: API tokens (created here, their secret shown once), the agents' Ed25519 keys and the
 * dashboard's own login sessions.
 * Device requests are decided on the Pairing page, next to the chat pairing requests.
 */
export function AccessView() {
  const queryClient = useQueryClient()
  const tokensQuery = useQuery(browserQueries.tokens())
  const agentKeysQuery = useQuery(browserQueries.agentKeys())
  const tokens = tokensQuery.data
  const agentKeys = agentKeysQuery.data
  const [notice, setNotice] = useState<Notice | undefined>(undefined)
  const [created, setCreated] = useState<CreatedToken | undefined>(undefined)

  const createToken = useMutation({
    mutationFn: (request: CreateTokenRequest) => browserApi.createToken(request),
    onSuccess: (result) => {
      if (result.ok) {
        setCreated(result.data)
        setNotice(undefined)
      } else {
        setNotice({ tone: 'error', text: `Could not create the token. ${describeFailure(result.failure)}` })
      }
      void queryClient.invalidateQueries({ queryKey: TOKENS_KEY })
    },
  })

  const revokeToken = useMutation({
    mutationFn: (token: TokenInfo) => browserApi.revokeToken(token.id),
    onSuccess: (result, token) => {
      const what = `token ${JSON.stringify(token.name)} (${token.id})`
      setNotice(
        result.ok
          ? { tone: 'ok', text: `Revoked ${what}: its open connections were closed.` }
          : { tone: 'error', text: `Could not revoke ${what}. ${describeFailure(result.failure)}` },
      )
      void queryClient.invalidateQueries({ queryKey: TOKENS_KEY })
    },
  })

  const registerKey = useMutation({
    mutationFn: (request: RegisterAgentKeyRequest) => browserApi.registerAgentKey(request),
    onSuccess: (result, request) => {
      setNotice(
        result.ok
          ? { tone: 'ok', text: `Registered the key of ${request.id}.` }
          : { tone: 'error', text: `Could not register the key. ${describeFailure(result.failure)}` },
      )
      void queryClient.invalidateQueries({ queryKey: AGENT_KEYS_KEY })
    },
  })

  const revokeKey = useMutation({
    mutationFn: (key: AgentKeyInfo) => browserApi.revokeAgentKey(key.id),
    onSuccess: (result, key) => {
      setNotice(
        result.ok
          ? { tone: 'ok', text: `Revoked the key of ${key.id}: its connections were closed.` }
          : {
              tone: 'error',
              text: `Could not revoke the key of ${key.id}. ${describeFailure(result.failure)}`,
            },
      )
      void queryClient.invalidateQueries({ queryKey: AGENT_KEYS_KEY })
    },
  })

  return (
    <section data-testid="access-page">
      <h1>Access</h1>
      <GatewayErrorBanner failure={firstFailure(tokens, agentKeys)} />
      <ActionNotice notice={notice} testIdPrefix="access-action" />

      <div className="section-head">
        <h2>Tokens</h2>
        <span className="muted small">newest first · refreshes every 2 seconds · times in UTC</span>
      </div>
      {created === undefined ? null : (
        <CreatedTokenSecret key={created.info.id} created={created} onDismiss={() => setCreated(undefined)} />
      )}
      <TokenCreateForm
        busy={createToken.isPending}
        onCreate={async (request) => (await createToken.mutateAsync(request)).ok}
      />
      <TokensTable
        tokens={tokens?.ok ? tokens.data.tokens : []}
        asOf={tokensQuery.dataUpdatedAt}
        loading={tokensQuery.isPending}
        busy={revokeToken.isPending}
        onRevoke={(token) => revokeToken.mutate(token)}
      />

      <div className="section-head">
        <h2>Agent keys</h2>
        <span className="muted small">Ed25519 identities that answer the gateway&apos;s challenge</span>
      </div>
      <AgentKeyRegisterForm
        busy={registerKey.isPending}
        onRegister={async (request) => (await registerKey.mutateAsync(request)).ok}
      />
      <AgentKeysTable
        agentKeys={agentKeys?.ok ? agentKeys.data.agentKeys : []}
        loading={agentKeysQuery.isPending}
        busy={revokeKey.isPending}
        onRevoke={(key) => revokeKey.mutate(key)}
      />

      <SessionsSection onNotice={setNotice} />
    </section>
  )
}

function Time({ iso }: { iso: string | null }) {
  return iso === null ? <span className="muted">—</span> : formatUtc(iso)
}

function StatusTag({ status, testId }: { status: string; testId: string }) {
  return (
    <span className={status === 'active' ? 'tag' : 'tag tag-error'} data-testid={testId}>
      {status}
    </span>
  )
}

function TokensTable({
  tokens,
  asOf,
  loading,
  busy,
  onRevoke,
}: {
  tokens: readonly TokenInfo[]
  /** When the list was fetched: "expired" is judged at that time, so server and browser agree. */
  asOf: number
  loading: boolean
  busy: boolean
  onRevoke: (token: TokenInfo) => void
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="tokens-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>Scopes</th>
            <th>Created</th>
            <th>Expires</th>
            <th>Last used</th>
            <th>Status</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {tokens.length === 0 ? (
            <tr>
              <td colSpan={8} className="empty">
                {loading ? 'Loading…' : 'No token yet.'}
              </td>
            </tr>
          ) : (
            tokens.map((token) => {
              const status = credentialStatus(token, asOf)
              return (
                <tr key={token.id} data-testid="token-row" data-token-id={token.id}>
                  <td data-testid="token-name">
                    {token.name}
                    <div className="muted small mono">{token.id}</div>
                  </td>
                  <td>
                    <span className="tag">{token.role}</span>
                  </td>
                  <td className="mono detail scopes">{formatScopes(token.scopes)}</td>
                  <td className="nowrap">
                    <Time iso={token.createdAt} />
                  </td>
                  <td className="nowrap">
                    <Time iso={token.expiresAt} />
                  </td>
                  <td className="nowrap">
                    <Time iso={token.lastUsedAt} />
                  </td>
                  <td className="nowrap">
                    <StatusTag status={status} testId="token-status" />
                    {token.revokedAt === null ? null : (
                      <div className="muted small">{formatUtc(token.revokedAt)}</div>
                    )}
                  </td>
                  <td>
                    {status === 'revoked' ? null : (
                      <ConfirmButton
                        label="Revoke"
                        question="Revoke it and close its connections?"
                        confirmLabel="Revoke"
                        disabled={busy}
                        small
                        onConfirm={() => onRevoke(token)}
                        testId="token-revoke"
                      />
                    )}
                  </td>
                </tr>
              )
            })
          )}
        </tbody>
      </table>
    </div>
  )
}

function AgentKeysTable({
  agentKeys,
  loading,
  busy,
  onRevoke,
}: {
  agentKeys: readonly AgentKeyInfo[]
  loading: boolean
  busy: boolean
  onRevoke: (key: AgentKeyInfo) => void
}) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="agent-keys-table">
        <thead>
          <tr>
            <th>Identity</th>
            <th>Name</th>
            <th>Role</th>
            <th>Scopes</th>
            <th>Public key</th>
            <th>Registered</th>
            <th>Status</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {agentKeys.length === 0 ? (
            <tr>
              <td colSpan={8} className="empty">
                {loading ? 'Loading…' : 'No agent key registered.'}
              </td>
            </tr>
          ) : (
            agentKeys.map((key) => {
              const status = credentialStatus(key, 0)
              return (
                <tr key={key.id} data-testid="agent-key-row" data-agent-key-id={key.id}>
                  <td className="mono detail">{key.id}</td>
                  <td data-testid="agent-key-name-cell">{key.name}</td>
                  <td>
                    <span className="tag">{key.role}</span>
                  </td>
                  <td className="mono detail scopes">{formatScopes(key.scopes)}</td>
                  <td className="mono detail">{key.publicKey}</td>
                  <td className="nowrap">{formatUtc(key.createdAt)}</td>
                  <td className="nowrap">
                    <StatusTag status={status} testId="agent-key-status" />
                  </td>
                  <td>
                    {status === 'revoked' ? null : (
                      <ConfirmButton
                        label="Revoke"
                        question="Revoke this key and close its connections?"
                        confirmLabel="Revoke"
                        disabled={busy}
                        small
                        onConfirm={() => onRevoke(key)}
                        testId="agent-key-revoke"
                      />
                    )}
                  </td>
                </tr>
              )
            })
          )}
        </tbody>
      </table>
    </div>
  )
}
