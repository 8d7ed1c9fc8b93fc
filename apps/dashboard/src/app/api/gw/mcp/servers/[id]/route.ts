import {
  answerActionFromGateway,
  answerForId,
  type IdRouteContext,
} from '../../../../../../lib/gateway-route'

/** Removes an upstream MCP server: its tools leave `/mcp`. */
export function DELETE(request: Request, context: IdRouteContext): Promise<Response> {
  return answerForId(request, context, (name) =>
    answerActionFromGateway(request, (gateway) => gateway.removeMcpServer(name)),
  )
}
