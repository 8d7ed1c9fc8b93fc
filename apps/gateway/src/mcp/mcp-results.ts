import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  McpError,
} from '@modelcontextprotocol/sdk/types.js'
import type { ErrorBody, ErrorCode as ParleyErrorCode } from '@parley/protocol'
import type { CallOutcome } from './mcp-calls.js'
import type { McpTool } from './mcp-tools.js'

/**
 * JSON-RPC error codes of gateway refusals on `/mcp` (the server-error range JSON-RPC leaves to
 * implementations). `data` always carries Parley's error body: `{ code, message, retryable, retryAfterMs?,
 * details? }` (a policy denial names its rule in `details.rule`).
 */
export const MCP_REFUSAL_CODES = {
  /** `policy_denied`, `introduction_required`, `forbidden`. */
  denied: -32003,
  /** `no_route`, `agent_unavailable`, `unavailable`, `shutting_down`. */
  unavailable: -32004,
  /** `timeout` (the SDK's own request-timeout code). */
  timeout: ErrorCode.RequestTimeout,
  /** `rate_limited`. */
  rateLimited: -32005,
} as const

const REFUSAL_CODE: Partial<Record<ParleyErrorCode, number>> = {
  policy_denied: MCP_REFUSAL_CODES.denied,
  introduction_required: MCP_REFUSAL_CODES.denied,
  forbidden: MCP_REFUSAL_CODES.denied,
  no_route: MCP_REFUSAL_CODES.unavailable,
  agent_unavailable: MCP_REFUSAL_CODES.unavailable,
  unavailable: MCP_REFUSAL_CODES.unavailable,
  shutting_down: MCP_REFUSAL_CODES.unavailable,
  timeout: MCP_REFUSAL_CODES.timeout,
  rate_limited: MCP_REFUSAL_CODES.rateLimited,
  payload_too_large: ErrorCode.InvalidParams,
  bad_request: ErrorCode.InvalidParams,
  invalid_frame: ErrorCode.InvalidParams,
}

/** A gateway refusal as the JSON-RPC error the MCP client gets. */
export function refusalError(error: ErrorBody): McpError {
  return new McpError(REFUSAL_CODE[error.code] ?? ErrorCode.InternalError, error.message, error)
}

function textOf(data: unknown): string {
  return typeof data === 'string' ? data : JSON.stringify(data)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The `tools/call` result of a call that reached the agent. An upstream tool's answer is a `CallToolResult`
 * already and passes through; an agent's answer data is wrapped: a string is one text item, other JSON is its
 * JSON text, plus `structuredContent` when it is an object. A stream's chunks are one content item each, then
 * the trailer (when the agent sent one). An agent error is `isError: true` with the agent's code and message.
 */
export function toolResult(
  tool: McpTool,
  outcome: Exclude<CallOutcome, { kind: 'refused' }>,
): CallToolResult {
  switch (outcome.kind) {
    case 'agent_error':
      return {
        isError: true,
        content: [{ type: 'text', text: `${outcome.code}: ${outcome.message}` }],
        structuredContent: { error: { code: outcome.code, message: outcome.message } },
      }
    case 'streamed': {
      const items = outcome.trailer === undefined ? outcome.chunks : [...outcome.chunks, outcome.trailer]
      return { content: items.map((item) => ({ type: 'text' as const, text: textOf(item) })) }
    }
    case 'answer': {
      if (tool.origin === 'upstream') {
        const parsed = CallToolResultSchema.safeParse(outcome.data)
        if (parsed.success) return parsed.data
        throw refusalError({
          code: 'internal',
          message: `the upstream tool ${tool.name} answered something that is not a CallToolResult`,
          retryable: false,
        })
      }
      const result: CallToolResult = { content: [{ type: 'text', text: textOf(outcome.data) }] }
      if (isPlainObject(outcome.data)) result.structuredContent = outcome.data
      return result
    }
  }
}
