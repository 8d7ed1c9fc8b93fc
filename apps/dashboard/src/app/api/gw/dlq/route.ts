import { normaliseDeadLetterFilters, parseDeadLetterRequest } from '../../../../lib/dlq-filters'
import { answerActionFromGateway, answerFromGateway, answerInvalid } from '../../../../lib/gateway-route'

/** A page of the dead-letter queue, newest first. */
export function GET(request: Request): Promise<Response> | Response {
  // Validated here with the protocol's DeadLetterQuery so a bad filter is a 400 that says what was wrong.
  const parsed = parseDeadLetterRequest(new URL(request.url).searchParams)
  if (!parsed.ok) return answerInvalid(request, 'invalid_filter', parsed.message)
  return answerFromGateway(request, (gateway) => gateway.deadLetters(parsed.request))
}

/** Purges every dead letter matching the filters in the query string (all of them without one). */
export function DELETE(request: Request): Promise<Response> | Response {
  const parsed = parseDeadLetterRequest(new URL(request.url).searchParams)
  if (!parsed.ok) return answerInvalid(request, 'invalid_filter', parsed.message)
  const filters = normaliseDeadLetterFilters(parsed.request)
  return answerActionFromGateway(request, (gateway) => gateway.purgeDeadLetters(filters))
}
