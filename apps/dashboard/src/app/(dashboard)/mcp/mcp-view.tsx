'use client'

import type { AddMcpServerRequest, McpServerInfo, McpToolInfo } from '@parley/protocol/admin'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { ActionNotice, type Notice } from '@/components/action-notice'
import { Badge } from '@/components/badge'
import { ConfirmButton } from '@/components/confirm-button'
import { GatewayErrorBanner } from '@/components/gateway-error-banner'
import { LiveTable } from '@/components/live-table'
import { UpstreamAddForm } from '@/components/upstream-add-form'
import { ADMIN_ROLES, type AdminRole, isAdminRole } from '@/lib/access-forms'
import { browserApi, browserQueries } from '@/lib/browser-api'
import { formatCount, formatUtc } from '@/lib/format'
import { describeFailure, firstFailure } from '@/lib/gateway-result'
import { MCP_SERVERS_KEY, MCP_TOOLS_KEY } from '@/lib/queries'
import type { McpToolsRequest } from '@/lib/upstream-requests'
import { errorRate, type McpServerForm, mcpServerFormToRequest, upstreamStateTone } from '@/lib/upstreams'

const SERVER_COLUMNS = [
  { label: 'Server' },
  { label: 'URL' },
  { label: 'State' },
  { label: 'Tools', numeric: true },
  { label: 'Last listing' },
  { label: 'Last error' },
  { label: 'Credentials' },
  { label: 'Added' },
  { label: 'Actions' },
] as const

const TOOL_COLUMNS = [
  { label: 'Tool' },
  { label: 'Origin' },
  { label: 'Owner' },
  { label: 'Description' },
  { label: 'Calls', numeric: true },
  { label: 'Errors', numeric: true },
  { label: 'Error rate', numeric: true },
] as const

const EMPTY_SERVER_FORM: McpServerForm = { name: '', url: '', token: '' }

function ServersSection() {
  const queryClient = useQueryClient()
  const query = useQuery(browserQueries.mcpServers())
  const result = query.data
  const servers = result?.ok ? result.data.servers : []
  const [notice, setNotice] = useState<Notice | undefined>(undefined)

  function changed() {
    void queryClient.invalidateQueries({ queryKey: MCP_SERVERS_KEY })
    void queryClient.invalidateQueries({ queryKey: MCP_TOOLS_KEY })
  }

  const add = useMutation({
    mutationFn: (body: AddMcpServerRequest) => browserApi.addMcpServer(body),
    onSuccess: (answer, body) => {
      setNotice(
        answer.ok
          ? {
              tone: 'ok',
              text: `Added the MCP server ${answer.data.name} (${answer.data.health.state}, ${answer.data.tools.length} tools).`,
            }
          : { tone: 'error', text: `Could not add ${body.name}. ${describeFailure(answer.failure)}` },
      )
      changed()
    },
  })
  const remove = useMutation({
    mutationFn: (server: McpServerInfo) => browserApi.removeMcpServer(server.name),
    onSuccess: (answer, server) => {
      setNotice(
        answer.ok
          ? { tone: 'ok', text: `Removed the MCP server ${server.name}: its tools are no longer listed.` }
          : { tone: 'error', text: `Could not remove ${server.name}. ${describeFailure(answer.failure)}` },
      )
      changed()
    },
  })

  return (
    <section aria-labelledby="mcp-servers-heading" data-testid="mcp-servers-section">
      <div className="section-head">
        <h2 id="mcp-servers-heading">Upstream servers</h2>
        <span className="muted small">their tools are published as server__tool · times in UTC</span>
      </div>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <ActionNotice notice={notice} testIdPrefix="mcp-action" />
      <UpstreamAddForm
        label="Add an MCP server"
        submitLabel="Add MCP server"
        empty={EMPTY_SERVER_FORM}
        toRequest={mcpServerFormToRequest}
        onAdd={async (body) => (await add.mutateAsync(body)).ok}
        busy={add.isPending}
        testIdPrefix="mcp-add"
      >
        {(form, setForm) => (
          <>
            <label>
              Name
              <input
                value={form.name}
                onChange={(e) => setForm({ ...form, name: e.target.value })}
                maxLength={32}
                required
                placeholder="github"
                data-testid="mcp-add-name"
              />
            </label>
            <label className="wide">
              URL
              <input
                value={form.url}
                onChange={(e) => setForm({ ...form, url: e.target.value })}
                required
                placeholder="https://mcp.example.com/mcp"
                data-testid="mcp-add-url"
              />
            </label>
          </>
        )}
      </UpstreamAddForm>
      <LiveTable
        testId="mcp-servers-table"
        columns={SERVER_COLUMNS}
        result={result}
        rowCount={servers.length}
        emptyText="No MCP server is registered."
        unavailableText="MCP servers unavailable."
      >
        {servers.map((server) => (
          <tr
            key={server.name}
            data-testid="mcp-server-row"
            data-server={server.name}
            data-state={server.health.state}
            aria-label={`MCP server ${server.name}`}
          >
            <td className="mono" data-testid="mcp-server-name">
              {server.name}
            </td>
            <td className="mono small">{server.health.url}</td>
            <td>
              <Badge tone={upstreamStateTone(server.health.state)} testId="mcp-server-state">
                {server.health.state}
              </Badge>
            </td>
            <td className="num" data-testid="mcp-server-tools">
              {formatCount(server.tools.length)}
            </td>
            <td className="nowrap">{formatUtc(server.health.lastFetchAt)}</td>
            <td className="detail" data-testid="mcp-server-last-error">
              {server.health.lastError === null ? (
                <span className="muted">—</span>
              ) : (
                <span className="error-text">{server.health.lastError}</span>
              )}
            </td>
            <td>{server.credentials}</td>
            <td className="nowrap">{formatUtc(server.createdAt)}</td>
            <td>
              <ConfirmButton
                label="Remove"
                question={`Remove the MCP server ${server.name}?`}
                confirmLabel="Remove server"
                onConfirm={() => remove.mutate(server)}
                disabled={remove.isPending}
                small
                testId="mcp-server-remove"
              />
            </td>
          </tr>
        ))}
      </LiveTable>
    </section>
  )
}

type ViewAsForm = { as: string; role: string }

function ToolRow({ tool }: { tool: McpToolInfo }) {
  return (
    <tr data-testid="mcp-tool-row" data-tool={tool.name} aria-label={`Tool ${tool.name}`}>
      <td className="mono" data-testid="mcp-tool-name">
        {tool.name}
        {tool.source === tool.name ? null : <div className="muted small">{tool.source}</div>}
      </td>
      <td data-testid="mcp-tool-origin">{tool.origin}</td>
      <td className="mono" data-testid="mcp-tool-owner">
        {tool.owner}
      </td>
      <td className="detail" data-testid="mcp-tool-description">
        {tool.description ?? <span className="muted">—</span>}
      </td>
      <td className="num" data-testid="mcp-tool-calls">
        {formatCount(tool.calls)}
      </td>
      <td className="num" data-testid="mcp-tool-errors">
        {formatCount(tool.errors)}
      </td>
      <td className="num" data-testid="mcp-tool-error-rate">
        {errorRate(tool.calls, tool.errors)}
      </td>
    </tr>
  )
}

/** Every tool `/mcp` publishes, or ("view as") those one principal may list under its scopes and policies. */
function ToolsSection() {
  const [form, setForm] = useState<ViewAsForm>({ as: '', role: '' })
  const [viewAs, setViewAs] = useState<McpToolsRequest>({})
  const query = useQuery(browserQueries.mcpTools(viewAs))
  const tokensQuery = useQuery(browserQueries.tokens())
  const tokens = tokensQuery.data?.ok ? tokensQuery.data.data.tokens.filter((t) => t.revokedAt === null) : []
  const result = query.data
  const tools = result?.ok ? result.data.tools : []
  const shownAs = result?.ok ? result.data.as : null

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const as = form.as.trim()
    const role: AdminRole | undefined = isAdminRole(form.role) ? form.role : undefined
    setViewAs(as === '' ? {} : role === undefined ? { as } : { as, role })
  }

  return (
    <section aria-labelledby="mcp-tools-heading" data-testid="mcp-tools-section">
      <div className="section-head">
        <h2 id="mcp-tools-heading" data-testid="mcp-tools-title">
          {viewAs.as === undefined ? 'Tools' : `Tools ${viewAs.as} can list`}
        </h2>
        <span className="muted small">call counts since the node started · refreshes every 2 seconds</span>
      </div>
      <form className="inline-form" onSubmit={submit} aria-label="View as">
        <label>
          View as (principal)
          <input
            value={form.as}
            onChange={(e) => setForm({ ...form, as: e.target.value })}
            list="mcp-principals"
            maxLength={200}
            placeholder="a token id or principal; empty: every tool"
            data-testid="mcp-view-as"
          />
        </label>
        <datalist id="mcp-principals" data-testid="mcp-view-as-options">
          {tokens.map((token) => (
            <option key={token.id} value={token.id} label={`${token.name} (${token.role})`} />
          ))}
        </datalist>
        <label>
          Role (optional)
          <select
            value={form.role}
            onChange={(e) => setForm({ ...form, role: e.target.value })}
            data-testid="mcp-view-as-role"
          >
            <option value="">its own</option>
            {ADMIN_ROLES.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button" data-testid="mcp-view-as-apply">
          View as
        </button>
        <button
          type="button"
          className="button secondary"
          onClick={() => {
            setForm({ as: '', role: '' })
            setViewAs({})
          }}
          data-testid="mcp-view-as-clear"
        >
          Every tool
        </button>
      </form>
      <GatewayErrorBanner failure={firstFailure(result)} />
      <LiveTable
        testId="mcp-tools-table"
        columns={TOOL_COLUMNS}
        result={result}
        rowCount={tools.length}
        emptyText={shownAs === null ? 'No tool is published.' : `${shownAs} can list no tool.`}
        unavailableText="Tools unavailable."
      >
        {tools.map((tool) => (
          <ToolRow key={tool.name} tool={tool} />
        ))}
      </LiveTable>
      <p className="muted small" data-testid="mcp-tools-count">
        {tools.length} tools{shownAs === null ? '' : ` listed for ${shownAs}`}
      </p>
    </section>
  )
}

/** The MCP gateway: upstream servers (health, tool counts, add / remove) and the tools, viewed as anyone. */
export function McpView() {
  return (
    <section data-testid="mcp-page">
      <h1>MCP</h1>
      <ServersSection />
      <ToolsSection />
    </section>
  )
}
