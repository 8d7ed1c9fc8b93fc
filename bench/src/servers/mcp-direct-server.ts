/**
 * Baseline for the mcp scenario: an official SDK `McpServer` with one `echo` tool, served over stateless
 * Streamable HTTP on `node:http` as the SDK documents it (a new server and transport per request, JSON
 * answers). No auth, policies, routing or audit: what an MCP tool call costs without a gateway in between.
 */
import { createServer } from 'node:http'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'

const port = Number(process.argv[2])

function echoServer(): McpServer {
  const server = new McpServer({ name: 'bench-direct', version: '1.0.0' })
  server.registerTool(
    'echo',
    { description: 'Answers with its arguments', inputSchema: { payload: z.string() } },
    (args) => ({ content: [{ type: 'text', text: JSON.stringify(args) }], structuredContent: args }),
  )
  return server
}

const http = createServer((request, response) => {
  if (request.url === '/health') {
    response.writeHead(200).end('ok')
    return
  }
  if (request.url !== '/mcp') {
    response.writeHead(404).end()
    return
  }
  const server = echoServer()
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  })
  response.on('close', () => {
    void transport.close()
    void server.close()
  })
  server
    .connect(transport)
    .then(() => transport.handleRequest(request, response))
    .catch(() => {
      if (!response.headersSent) response.writeHead(500).end()
    })
})
http.listen(port, '127.0.0.1')
