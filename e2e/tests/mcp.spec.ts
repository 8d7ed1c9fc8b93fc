import { expect, test } from '@playwright/test'
import { E2E } from '../e2e-env.js'
import { adminApi, logIn, recordDialogs, uniqueName } from '../helpers.js'
import { startMcpUpstream } from '../upstream-servers.js'

const UPSTREAM_TOKEN = 'e2e-mcp-upstream-secret-0123456789'

test('an operator registers an upstream MCP server on the MCP page, sees its tools, and uses "view as" to see what a restricted token can list', async ({
  page,
}) => {
  const dialogs = recordDialogs(page)
  const upstream = await startMcpUpstream([
    { name: 'read', description: 'Reads a <b>file</b>' },
    { name: 'remove', description: 'Removes a file' },
  ])
  // An MCP server name (lower-case letters, digits and -, at most 32 characters) without a `-`, so its tools'
  // names on /mcp are `{server}__{tool}` as typed (a `-` before hex digits is escaped there as `-2d`).
  const server = `e2e${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
  const created = await adminApi('POST', '/api/admin/tokens', {
    name: uniqueName('e2e-mcp-restricted'),
    role: 'client',
    scopes: ['*:*'],
  })
  expect(created.status).toBe(201)
  const restricted = (created.body as { info: { id: string } }).info.id
  const ruleId = uniqueName('e2e-mcp-deny').slice(0, 60)
  const rule = await adminApi('POST', '/api/admin/policies', {
    id: ruleId,
    effect: 'deny',
    actions: ['request'],
    subject: { kind: 'principal', pattern: restricted },
    target: { kind: 'capability', pattern: `mcp:${server}__remove` },
    priority: 1000,
  })
  expect(rule.status).toBe(201)
  try {
    await logIn(page)
    await page.getByTestId('nav-mcp').click()
    await expect(page).toHaveURL(`${E2E.dashboardUrl}/mcp`)

    const form = page.getByRole('form', { name: 'Add an MCP server' })
    await form.getByLabel('Name').fill(server)
    await form.getByLabel('URL').fill(upstream.mcpUrl)
    const token = form.getByLabel('Bearer token (optional)')
    await expect(token).toHaveAttribute('type', 'password')
    await token.fill(UPSTREAM_TOKEN)
    await form.getByRole('button', { name: 'Add MCP server' }).click()
    await expect(page.getByTestId('mcp-action-result')).toContainText(`Added the MCP server ${server}`)
    await expect(token).toHaveValue('')

    const row = page.getByRole('row', { name: `MCP server ${server}` })
    await expect(row.getByTestId('mcp-server-state')).toHaveText('up')
    await expect(row.getByTestId('mcp-server-tools')).toHaveText('2')
    await expect(page.locator('body')).not.toContainText(UPSTREAM_TOKEN)
    expect(upstream.authorizations).toContain(`Bearer ${UPSTREAM_TOKEN}`)

    // Every tool, published as {server}__{tool}, with its description as text.
    const read = page.getByRole('row', { name: `Tool ${server}__read` })
    await expect(read.getByTestId('mcp-tool-origin')).toHaveText('upstream')
    await expect(read.getByTestId('mcp-tool-owner')).toHaveText(server)
    await expect(read.getByTestId('mcp-tool-description')).toHaveText('Reads a <b>file</b>')
    await expect(read.locator('b')).toHaveCount(0)
    await expect(page.getByRole('row', { name: `Tool ${server}__remove` })).toHaveCount(1)

    // View as the restricted token: the denied tool is not listed, the other is.
    await page.getByTestId('mcp-view-as').fill(restricted)
    await page.getByTestId('mcp-view-as-apply').click()
    await expect(page.getByTestId('mcp-tools-title')).toHaveText(`Tools ${restricted} can list`)
    await expect(page.getByTestId('mcp-tools-count')).toContainText(`listed for ${restricted}`)
    await expect(page.getByRole('row', { name: `Tool ${server}__read` })).toHaveCount(1)
    await expect(page.getByRole('row', { name: `Tool ${server}__remove` })).toHaveCount(0)

    await page.getByTestId('mcp-view-as-clear').click()
    await expect(page.getByTestId('mcp-tools-title')).toHaveText('Tools')
    await expect(page.getByRole('row', { name: `Tool ${server}__remove` })).toHaveCount(1)

    // Removing the server asks first; its tools go with it.
    await row.getByRole('button', { name: 'Remove', exact: true }).click()
    await row.getByRole('button', { name: 'Remove server' }).click()
    await expect(page.getByTestId('mcp-action-result')).toContainText(`Removed the MCP server ${server}`)
    await expect(page.getByRole('row', { name: `Tool ${server}__read` })).toHaveCount(0)
    expect(dialogs).toEqual([])
  } finally {
    await adminApi('DELETE', `/api/admin/mcp/servers/${server}`)
    await adminApi('DELETE', `/api/admin/policies/${ruleId}`)
    await adminApi('DELETE', `/api/admin/tokens/${restricted}`)
    await upstream.close()
  }
})
