import type { CapturedExchange, CapturedStepInfo } from '@parley/protocol'
import type { AuditLog, CapturedStep, CaptureStore } from '@parley/stores'
import type { ExchangeCapture } from '../capture/exchange-capture.js'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'
import { conversationParty } from './conversation-parties.js'

/**
 * `GET /api/admin/conversations/exchanges?a=…&b=…`: the captured exchanges between two parties, newest first,
 * each stepped through (request, chunks, reply) with its redacted payloads, timings and trace id. A party is
 * resolved as for the conversation (an agent stands for all its instances).
 */
export function registerExchangeRoutes(
  app: GatewayApp,
  deps: { audit: () => AuditLog; captures: () => CaptureStore; capture: ExchangeCapture },
): void {
  mountAdminRoutes(app, {
    conversationExchanges: async (_c, request) => {
      const { a, b, before, limit } = request.query()
      await deps.capture.flush()
      const audit = deps.audit()
      const parties = { a: await conversationParty(audit, a), b: await conversationParty(audit, b) }
      const exchanges = await deps.captures().exchanges({
        a: parties.a,
        b: parties.b,
        limit,
        ...(before === undefined ? {} : { before: new Date(before) }),
      })
      const answer = exchanges.map(toExchange).filter((exchange) => exchange !== undefined)
      const last = answer.at(-1)
      return {
        capture: { enabled: deps.capture.enabled },
        exchanges: answer,
        nextBefore: answer.length >= limit && last !== undefined ? last.startedAt : null,
      }
    },
  })
}

function toExchange(steps: CapturedStep[]): CapturedExchange | undefined {
  const first = steps[0]
  if (first === undefined) return undefined
  return {
    correlationId: first.correlationId,
    caller: first.caller,
    agentId: first.agentId,
    traceId: first.traceId,
    startedAt: new Date(first.time.getTime() - first.offsetMs).toISOString(),
    steps: steps.map(toStepInfo),
  }
}

function toStepInfo(step: CapturedStep): CapturedStepInfo {
  return {
    step: step.step,
    stepIndex: step.stepIndex,
    time: step.time.toISOString(),
    offsetMs: step.offsetMs,
    instanceId: step.instanceId,
    node: step.node,
    traceId: step.traceId,
    size: step.size,
    payload: step.payload === null ? null : (JSON.parse(step.payload) as unknown),
    redacted: step.redacted,
    truncated: step.truncated,
  }
}
