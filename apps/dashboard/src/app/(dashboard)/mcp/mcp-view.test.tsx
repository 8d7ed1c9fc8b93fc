// @vitest-environment happy-dom
import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { afterEach, describe, expect, it } from 'vitest'
import {
  cleanUpViews,
  httpFailureAnswer,
  okAnswer,
  type RouteAnswer,
  renderView,
  type SentRequest,
  stubDashboardRoutes,
} from '@/test-support/render-view'
import { everyTool, mcpServerList, restrictedTools, tokenList } from '@/test-support/upstream-fixtures'
import { McpView } from './mcp-view'

afterEach(cleanUpViews)

function stubRoutes(override: (request: SentRequest) => RouteAnswer | undefined = () => undefined) {
  return stubDashboardRoutes((request) => {
    const special = override(request)
    if (special !== undefined) return special
    if (request.url === '/api/gw/mcp/servers') return okAnswer(mcpServerList)
    if (request.url === '/api/gw/mcp/tools') return okAnswer(everyTool)
    if (request.url === '/api/gw/mcp/tools?as=tok_restricted') return okAnswer(restrictedTools)
    if (request.url === '/api/gw/mcp/tools?as=tok_restricted&role=agent') {
      return okAnswer({ as: 'tok_restricted', tools: [] })
    }
    if (request.url === '/api/gw/tokens') return okAnswer(tokenList)
    return undefined
  })
}

function server(name: string) {
  return within(screen.getByRole('row', { name: `MCP server ${name}` }))
}

function toolNames(): string[] {
  return screen.queryAllByTestId('mcp-tool-row').map((row) => row.dataset.tool ?? '')
}

describe('MCP page: upstream servers', () => {
  it('lists each server with its state, tool count and last error; a down one shows as down, markup as text', async () => {
    stubRoutes()
    renderView(<McpView />)
    await waitFor(() => expect(screen.getAllByTestId('mcp-server-row')).toHaveLength(2))

    expect(server('files').getByTestId('mcp-server-state').textContent).toBe('up')
    expect(server('files').getByTestId('mcp-server-state').dataset.tone).toBe('ok')
    expect(server('files').getByTestId('mcp-server-tools').textContent).toBe('2')
    const search = server('search')
    expect(search.getByTestId('mcp-server-state').textContent).toBe('down')
    expect(search.getByTestId('mcp-server-state').dataset.tone).toBe('error')
    expect(search.getByTestId('mcp-server-tools').textContent).toBe('0')
    const lastError = search.getByTestId('mcp-server-last-error')
    expect(lastError.textContent).toBe('fetch failed: <script>alert(1)</script>')
    expect(lastError.querySelector('script')).toBeNull()
  })

  it('shows loading, empty and the gateway error', async () => {
    stubRoutes((request) => (request.url === '/api/gw/mcp/servers' ? okAnswer({ servers: [] }) : undefined))
    renderView(<McpView />)
    expect(screen.getByTestId('mcp-servers-table-empty').textContent).toBe('Loading…')
    await waitFor(() =>
      expect(screen.getByTestId('mcp-servers-table-empty').textContent).toBe('No MCP server is registered.'),
    )
    cleanUpViews()

    stubRoutes((request) =>
      request.url.startsWith('/api/gw/mcp/') ? httpFailureAnswer(404, 'not_found', 'no MCP here') : undefined,
    )
    renderView(<McpView />)
    await waitFor(() =>
      expect(screen.getByTestId('mcp-servers-table-empty').textContent).toBe('MCP servers unavailable.'),
    )
    expect(screen.getByTestId('mcp-tools-table-empty').textContent).toBe('Tools unavailable.')
    expect(screen.getAllByTestId('gateway-error')[0]?.textContent).toBe(
      'The gateway answered 404 not_found: no MCP here',
    )
  })

  it('adds a server with name, URL and a bearer token (a password field), and names a wrong name first', async () => {
    const sent = stubRoutes((request) =>
      request.method === 'POST' ? okAnswer(mcpServerList.servers[0]) : undefined,
    )
    renderView(<McpView />)
    await waitFor(() => expect(screen.getAllByTestId('mcp-server-row')).toHaveLength(2))
    const user = userEvent.setup()

    await user.type(screen.getByTestId('mcp-add-name'), 'Files!')
    await user.type(screen.getByTestId('mcp-add-url'), 'http://127.0.0.1:9100/mcp')
    await user.click(screen.getByTestId('mcp-add-submit'))
    expect(screen.getByTestId('mcp-add-error').textContent).toContain('name: 1 to 32 lower-case letters')
    expect(sent.some((request) => request.method === 'POST')).toBe(false)

    const token = screen.getByTestId('mcp-add-token') as HTMLInputElement
    expect(token.type).toBe('password')
    await user.clear(screen.getByTestId('mcp-add-name'))
    await user.type(screen.getByTestId('mcp-add-name'), 'files')
    await user.type(token, 'mcp-secret')
    await user.click(screen.getByTestId('mcp-add-submit'))
    await waitFor(() =>
      expect(screen.getByTestId('mcp-action-result').textContent).toBe(
        'Added the MCP server files (up, 2 tools).',
      ),
    )
    expect(sent.filter((request) => request.method === 'POST')).toEqual([
      {
        method: 'POST',
        url: '/api/gw/mcp/servers',
        body: {
          name: 'files',
          url: 'http://127.0.0.1:9100/mcp',
          credentials: { type: 'bearer', token: 'mcp-secret' },
        },
      },
    ])
    expect(token.value).toBe('')
  })

  it('removes a server only after the confirmation, and shows a refusal', async () => {
    let removals = 0
    const sent = stubRoutes((request) => {
      if (request.method !== 'DELETE') return undefined
      removals += 1
      return removals === 1
        ? okAnswer({ name: 'search', removed: true })
        : httpFailureAnswer(404, 'not_found', 'no MCP server search')
    })
    renderView(<McpView />)
    await waitFor(() => expect(screen.getAllByTestId('mcp-server-row')).toHaveLength(2))
    const user = userEvent.setup()

    await user.click(server('search').getByTestId('mcp-server-remove'))
    expect(sent.some((request) => request.method === 'DELETE')).toBe(false)
    await user.click(server('search').getByTestId('mcp-server-remove-confirm'))
    await waitFor(() =>
      expect(screen.getByTestId('mcp-action-result').textContent).toBe(
        'Removed the MCP server search: its tools are no longer listed.',
      ),
    )
    expect(sent.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual([
      '/api/gw/mcp/servers/search',
    ])

    await user.click(server('search').getByTestId('mcp-server-remove'))
    await user.click(server('search').getByTestId('mcp-server-remove-confirm'))
    await waitFor(() =>
      expect(screen.getByTestId('mcp-action-error').textContent).toBe(
        'Could not remove search. The gateway answered 404 not_found: no MCP server search',
      ),
    )
  })
})

describe('MCP page: tools and "view as"', () => {
  it('lists every tool with origin, owner, description, calls, errors and error rate', async () => {
    stubRoutes()
    renderView(<McpView />)
    await waitFor(() => expect(toolNames()).toEqual(['files__read', 'files__write', 'summarizer__summarize']))

    const read = within(screen.getByRole('row', { name: 'Tool files__read' }))
    expect(read.getByTestId('mcp-tool-origin').textContent).toBe('upstream')
    expect(read.getByTestId('mcp-tool-owner').textContent).toBe('files')
    expect(read.getByTestId('mcp-tool-description').textContent).toBe('Reads a file')
    expect(read.getByTestId('mcp-tool-calls').textContent).toBe('8')
    expect(read.getByTestId('mcp-tool-errors').textContent).toBe('1')
    expect(read.getByTestId('mcp-tool-error-rate').textContent).toBe('12.5%')
    const write = within(screen.getByRole('row', { name: 'Tool files__write' }))
    expect(write.getByTestId('mcp-tool-error-rate').textContent).toBe('—')
    expect(write.getByTestId('mcp-tool-description').textContent).toBe('—')
    const agentTool = within(screen.getByRole('row', { name: 'Tool summarizer__summarize' }))
    expect(agentTool.getByTestId('mcp-tool-origin').textContent).toBe('agent')
    expect(agentTool.getByTestId('mcp-tool-error-rate').textContent).toBe('100%')
    expect(screen.getByTestId('mcp-tools-title').textContent).toBe('Tools')
  })

  it('views the tools as a principal picked from the tokens, with a role, and back to every tool', async () => {
    const sent = stubRoutes()
    renderView(<McpView />)
    await waitFor(() => expect(toolNames()).toHaveLength(3))
    await waitFor(() =>
      expect(screen.getByTestId('mcp-view-as-options').querySelector('option')?.getAttribute('value')).toBe(
        'tok_restricted',
      ),
    )
    const user = userEvent.setup()

    await user.type(screen.getByTestId('mcp-view-as'), 'tok_restricted')
    await user.click(screen.getByTestId('mcp-view-as-apply'))
    await waitFor(() => expect(toolNames()).toEqual(['files__read', 'summarizer__summarize']))
    expect(screen.getByTestId('mcp-tools-title').textContent).toBe('Tools tok_restricted can list')
    expect(screen.getByTestId('mcp-tools-count').textContent).toBe('2 tools listed for tok_restricted')
    expect(sent.some((request) => request.url === '/api/gw/mcp/tools?as=tok_restricted')).toBe(true)

    await user.selectOptions(screen.getByTestId('mcp-view-as-role'), 'agent')
    await user.click(screen.getByTestId('mcp-view-as-apply'))
    await waitFor(() =>
      expect(screen.getByTestId('mcp-tools-table-empty').textContent).toBe(
        'tok_restricted can list no tool.',
      ),
    )

    await user.click(screen.getByTestId('mcp-view-as-clear'))
    await waitFor(() => expect(toolNames()).toHaveLength(3))
    expect(screen.getByTestId('mcp-tools-title').textContent).toBe('Tools')
  })
})
