import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

/**
 * An official SDK MCP client connected to `url` (Streamable HTTP), with a bearer token when given and any other
 * `headers` on every request (a `traceparent`, as an instrumented client sends).
 */
export async function mcpClient(
  url: string,
  token?: string,
  headers: Record<string, string> = {},
): Promise<Client> {
  const client = new Client({ name: 'parley-test', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: {
      headers: token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` },
    },
  })
  await client.connect(transport)
  return client
}

/** Posts one raw JSON-RPC body to `/mcp` as an MCP client would (both Accept types), resolving status and body. */
export async function rawMcp(
  baseUrl: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      ...headers,
    },
    body,
  })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // An SSE or empty answer stays text.
  }
  return { status: response.status, headers: response.headers, body: parsed }
}
