import { AddMcpServerRequest } from '@parley/protocol/admin'
import { answerActionWithBody, answerFromGateway } from '../../../../../lib/gateway-route'

/** Upstream MCP servers with their health and tools (never their credentials). */
export function GET(request: Request): Promise<Response> {
  return answerFromGateway(request, (gateway) => gateway.mcpServers())
}

/** Registers an upstream MCP server (body `AddMcpServerRequest`): name, URL and credentials. */
export function POST(request: Request): Promise<Response> {
  return answerActionWithBody(request, AddMcpServerRequest, (gateway, body) => gateway.addMcpServer(body))
}
