import {
  A2A_VERSION_HEADER,
  formatSSEErrorEvent,
  ListTaskPushNotificationConfigsResponse,
  SendMessageRequest,
  SendMessageResponse,
  StreamResponse,
  Task,
  TaskPushNotificationConfig,
  taskStateFromJSON,
} from '@a2a-js/sdk'
import { RequestMalformedError, restStatusFor, toRestErrorBody } from '@a2a-js/sdk/errors'
import { validateVersion } from '@a2a-js/sdk/server'
import { type ErrorBody, errorBody } from '@parley/protocol'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { GatewayApp, GatewayEnv } from '../http/create-app.js'
import type { A2aOperation } from './a2a-audit.js'
import { restRefusal } from './a2a-errors.js'
import { type A2aFace, type OpenedCall, sseAnswer } from './a2a-face.js'
import { followTask, lastEventId, taskIdOfResponse } from './a2a-subscribe.js'

/** The serialisation of an HTTP+JSON error: the gateway's refusal when it refused, else the SDK's mapping. */
function restError(c: Context<GatewayEnv>, error: unknown, refusal: ErrorBody | undefined): Response {
  if (refusal !== undefined) {
    const answer = restRefusal(refusal)
    return c.json(answer.body as object, answer.status as ContentfulStatusCode)
  }
  const status = restStatusFor(error)
  return c.json(toRestErrorBody(error, status), status as ContentfulStatusCode)
}

function sendResult(result: Awaited<ReturnType<OpenedCall['handler']['sendMessage']>>) {
  return SendMessageResponse.toJSON({
    payload: 'messageId' in result ? { $case: 'message', value: result } : { $case: 'task', value: result },
  })
}

function optionalInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new RequestMalformedError(`${name} must be a non-negative integer`)
  return parsed
}

/**
 * The HTTP+JSON binding of A2A v1.0 under `/a2a/{agentId}`, on the same calls as JSON-RPC: `POST
 * /message:send`, `POST /message:stream` (SSE), `GET /tasks/{id}`, `POST /tasks/{id}:cancel`,
 * `GET|POST /tasks/{id}:subscribe` (SSE), `GET /tasks` and the push configs under
 * `/tasks/{id}/pushNotificationConfigs`. Errors are the binding's `{ error: { code,
 * status, message, details } }` with the HTTP status.
 */
export function registerA2aRestRoutes(app: GatewayApp, face: A2aFace): void {
  /** A call opened on the binding, with its audit row written when `done` answers it. */
  interface RestCall extends OpenedCall {
    done(answer: Response): Response
    finished(error?: unknown): void
  }

  /** Authenticates, finds the agent and opens the call (audited as `operation`); or the error answer. */
  async function opened(
    c: Context<GatewayEnv>,
    operation: A2aOperation,
    namedTask?: string,
  ): Promise<RestCall | Response> {
    const principal = await face.principalOf(c)
    if (principal instanceof Response) return principal
    const agentId = c.req.param('agentId') ?? ''
    let call: OpenedCall | undefined
    const record = face.auditCall(
      principal,
      agentId,
      () => operation,
      () => call?.taskId() ?? namedTask,
    )
    const done = (answer: Response): Response => {
      // An SSE answer is audited when its stream ends.
      if (answer.headers.get('content-type')?.startsWith('text/event-stream') === true) return answer
      record(answer.status < 400 ? undefined : { code: call?.refusal()?.code ?? `http_${answer.status}` })
      return answer
    }
    const agent = await face.knownAgent(agentId)
    if (agent === undefined)
      return done(restError(c, undefined, errorBody('no_route', `no agent ${agentId}`)))
    const opened = face.open(c, principal, agent, {
      streaming: operation === 'stream',
      requestedVersion: c.req.header(A2A_VERSION_HEADER) || undefined,
    })
    call = opened
    try {
      validateVersion(opened.context.requestedVersion, opened.card, 'HTTP+JSON')
    } catch (error) {
      return done(restError(c, error, undefined))
    }
    return {
      ...opened,
      done,
      finished: (error) =>
        record(error === undefined ? undefined : { code: opened.refusal()?.code ?? 'stream_failed' }),
    }
  }

  async function messageOf(c: Context<GatewayEnv>) {
    const text = await face.readBody(c)
    if (text === undefined)
      return errorBody('payload_too_large', 'the request body is larger than maxPayload')
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new RequestMalformedError('Invalid JSON payload.')
    }
    const request = SendMessageRequest.fromJSON(body ?? {})
    if (!request.message?.messageId) throw new RequestMalformedError('message.messageId is required')
    return request
  }

  function stream(
    c: Context<GatewayEnv>,
    call: RestCall,
    events: AsyncGenerator<StreamResponse, void, undefined>,
    drainOnCancel = false,
  ) {
    return sseAnswer(events, {
      drainOnCancel,
      serialize: (event) => StreamResponse.toJSON(event),
      failedAtOnce: (error) => restError(c, error, call.refusal()),
      failedEvent: (error) => formatSSEErrorEvent(toRestErrorBody(error, restStatusFor(error))),
      finished: call.finished,
      eventId: (event) => {
        const taskId = taskIdOfResponse(StreamResponse.toJSON(event))
        return taskId === undefined ? undefined : face.tasks.lastSeq(taskId)
      },
    })
  }

  app.post('/a2a/:agentId/:action', async (c) => {
    const action = c.req.param('action')
    if (action !== 'message:send' && action !== 'message:stream') return c.notFound()
    const call = await opened(c, action === 'message:send' ? 'message' : 'stream')
    if (call instanceof Response) return call
    try {
      const request = await messageOf(c)
      if ('code' in request) return call.done(restError(c, undefined, request))
      if (action === 'message:send')
        return call.done(c.json(sendResult(await call.handler.sendMessage(request, call.context)) as object))
      return await stream(c, call, call.handler.sendMessageStream(request, call.context), true)
    } catch (error) {
      return call.done(restError(c, error, call.refusal()))
    }
  })

  app.get('/a2a/:agentId/tasks', async (c) => {
    const call = await opened(c, 'list')
    if (call instanceof Response) return call
    try {
      const query = c.req.query()
      const pageSize = optionalInt(query.pageSize, 'pageSize')
      const historyLength = optionalInt(query.historyLength, 'historyLength')
      const listed = await call.handler.listTasks(
        {
          tenant: '',
          contextId: query.contextId ?? '',
          status: query.status === undefined ? 0 : taskStateFromJSON(query.status),
          pageToken: query.pageToken ?? '',
          statusTimestampAfter: query.statusTimestampAfter,
          includeArtifacts: query.includeArtifacts === 'true',
          ...(pageSize === undefined ? {} : { pageSize }),
          ...(historyLength === undefined ? {} : { historyLength }),
        },
        call.context,
      )
      return call.done(
        c.json({
          tasks: listed.tasks.map((task) => Task.toJSON(task)),
          nextPageToken: listed.nextPageToken,
          pageSize: listed.pageSize,
          totalSize: listed.totalSize,
        }),
      )
    } catch (error) {
      return call.done(restError(c, error, undefined))
    }
  })

  async function task(c: Context<GatewayEnv>, method: 'GET' | 'POST'): Promise<Response> {
    const [taskId = '', verb] = (c.req.param('taskId') ?? '').split(':')
    if (
      (method === 'POST' && verb !== 'cancel' && verb !== 'subscribe') ||
      (method === 'GET' && verb !== undefined && verb !== 'subscribe')
    )
      return c.notFound()
    const call = await opened(
      c,
      verb === 'subscribe' ? 'subscribe' : verb === 'cancel' ? 'cancel' : 'get',
      taskId,
    )
    if (call instanceof Response) return call
    try {
      if (verb === 'subscribe') {
        const events = followTask(
          face.tasks,
          taskId,
          { owner: call.context.user?.userName ?? '', agentId: c.req.param('agentId') ?? '' },
          lastEventId(c.req.header('last-event-id')),
        )
        return await sseAnswer(events, {
          serialize: (event) => event.response,
          eventId: (event) => event.seq,
          failedAtOnce: (error) => call.done(restError(c, error, undefined)),
          failedEvent: (error) => formatSSEErrorEvent(toRestErrorBody(error, restStatusFor(error))),
          finished: call.finished,
        })
      }
      if (verb === 'cancel') {
        const canceled = await call.handler.cancelTask({ tenant: '', id: taskId, metadata: {} }, call.context)
        return call.done(c.json(Task.toJSON(canceled) as object))
      }
      const historyLength = optionalInt(c.req.query('historyLength'), 'historyLength')
      const found = await call.handler.getTask(
        { tenant: '', id: taskId, ...(historyLength === undefined ? {} : { historyLength }) },
        call.context,
      )
      return call.done(c.json(Task.toJSON(found) as object))
    } catch (error) {
      return call.done(restError(c, error, undefined))
    }
  }
  app.get('/a2a/:agentId/tasks/:taskId', (c) => task(c, 'GET'))
  app.post('/a2a/:agentId/tasks/:taskId', (c) => task(c, 'POST'))

  // Push notification configs of a task (`a2a-push.ts`): create (201), list, get, delete (204).
  const CONFIGS = '/a2a/:agentId/tasks/:taskId/pushNotificationConfigs'
  async function pushConfigCall(
    c: Context<GatewayEnv>,
    run: (call: RestCall, taskId: string) => Promise<Response>,
  ): Promise<Response> {
    const taskId = c.req.param('taskId') ?? ''
    const call = await opened(c, 'push', taskId)
    if (call instanceof Response) return call
    try {
      return call.done(await run(call, taskId))
    } catch (error) {
      return call.done(restError(c, error, undefined))
    }
  }
  app.post(CONFIGS, (c) =>
    pushConfigCall(c, async (call, taskId) => {
      const text = await face.readBody(c)
      if (text === undefined) return restError(c, undefined, errorBody('payload_too_large', 'body too large'))
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        throw new RequestMalformedError('Invalid JSON payload.')
      }
      const params = TaskPushNotificationConfig.fromJSON({ ...(body as object), taskId })
      const created = await call.handler.createTaskPushNotificationConfig(params, call.context)
      return c.json(TaskPushNotificationConfig.toJSON(created) as object, 201)
    }),
  )
  app.get(CONFIGS, (c) =>
    pushConfigCall(c, async (call, taskId) => {
      const listed = await call.handler.listTaskPushNotificationConfigs(
        { tenant: '', taskId, pageSize: 0, pageToken: '' },
        call.context,
      )
      return c.json(ListTaskPushNotificationConfigsResponse.toJSON(listed) as object)
    }),
  )
  app.get(`${CONFIGS}/:configId`, (c) =>
    pushConfigCall(c, async (call, taskId) => {
      const found = await call.handler.getTaskPushNotificationConfig(
        { tenant: '', taskId, id: c.req.param('configId') },
        call.context,
      )
      return c.json(TaskPushNotificationConfig.toJSON(found) as object)
    }),
  )
  app.delete(`${CONFIGS}/:configId`, (c) =>
    pushConfigCall(c, async (call, taskId) => {
      await call.handler.deleteTaskPushNotificationConfig(
        { tenant: '', taskId, id: c.req.param('configId') },
        call.context,
      )
      return c.body(null, 204)
    }),
  )
}
