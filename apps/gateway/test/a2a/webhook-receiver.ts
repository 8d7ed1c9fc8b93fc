import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One POST the receiver got: its headers, its JSON body and the status it answered. */
export interface ReceivedNotification {
  headers: IncomingHttpHeaders
  body: Record<string, unknown>
  status: number
}

/**
 * A webhook receiver on 127.0.0.1 (a port of its own): records every POST and answers with the status
 * `answer` picks for the n-th request (1-based), 200 by default.
 */
export async function startWebhookReceiver(answer: (n: number) => number = () => 200) {
  const received: ReceivedNotification[] = []
  let pick = answer
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const status = pick(received.length + 1)
      const text = Buffer.concat(chunks).toString('utf8')
      received.push({ headers: request.headers, body: JSON.parse(text) as Record<string, unknown>, status })
      response.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks/a2a`,
    origin: `http://127.0.0.1:${port}`,
    received,
    /** The notifications it accepted (answered 2xx), in arrival order. */
    accepted: () => received.filter((item) => item.status >= 200 && item.status < 300),
    answerWith(next: (n: number) => number) {
      pick = next
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>

/** A v1.0 push body (a `StreamResponse` as JSON) in short: `task WORKING`, `chunk 3`, `status COMPLETED`. */
export function notificationSummary(body: Record<string, unknown>): string {
  const state = (status: unknown) =>
    String((status as { state?: string } | undefined)?.state ?? '').replace('TASK_STATE_', '')
  if ('task' in body) return `task ${state((body.task as { status?: unknown }).status)}`
  if ('statusUpdate' in body) return `status ${state((body.statusUpdate as { status?: unknown }).status)}`
  if ('artifactUpdate' in body) {
    const artifact = (body.artifactUpdate as { artifact?: { parts?: Record<string, unknown>[] } }).artifact
    const part = artifact?.parts?.[0] ?? {}
    return `chunk ${JSON.stringify(part.text ?? part.data ?? part)}`
  }
  return `other ${Object.keys(body).join(',')}`
}
