import { parseAuditRequest } from '../../../../lib/audit-filters'
import { failed } from '../../../../lib/gateway-result'
import { answerFromGateway, answerWithResult } from '../../../../lib/gateway-route'

export function GET(request: Request): Promise<Response> | Response {
  // Validated here with the protocol's AuditQuery so a bad filter is a 400 that says what was wrong.
  const parsed = parseAuditRequest(new URL(request.url).searchParams)
  if (!parsed.ok) {
    return answerWithResult(
      request,
      failed({ kind: 'http', status: 400, code: 'invalid_filter', message: parsed.message }),
    )
  }
  return answerFromGateway(request, (gateway) => gateway.audit(parsed.request))
}
