import { Ajv2020 } from 'ajv/dist/2020.js'

/**
 * Checks real answers against the gateway's served OpenAPI document: the status must be documented for the
 * operation (exactly, or by its `4XX` / `5XX` range), and the body must match the documented media type and
 * schema (JSON Schema 2020-12, as OpenAPI 3.1 uses). Remembers which operations were checked, so a test can
 * require every operation of the document to have been called.
 */

type Json = Record<string, unknown>
interface DocumentedOperation {
  method: string
  path: string
  pointer: string
  /** The names of the security schemes that may authenticate it (none: a public operation). */
  schemes: string[]
  responses: Record<string, Json>
}

export interface CheckedAnswer {
  status: number
  /** The parsed JSON body, or the text of any other media type; undefined when there is none. */
  body: unknown
}

export class OpenApiContract {
  readonly #document: Json
  readonly #operations = new Map<string, DocumentedOperation>()
  readonly #ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true })
  /** Operation id → the statuses it was seen to answer. */
  readonly checked = new Map<string, Set<number>>()

  constructor(document: Json) {
    this.#document = document
    this.#ajv.addSchema(document, 'openapi')
    const paths = document.paths as Record<string, Record<string, Json>>
    for (const [path, methods] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const pointer = `/paths/${escapePointer(path)}/${method}`
        this.#operations.set(operation.operationId as string, {
          method: method.toUpperCase(),
          path,
          pointer,
          schemes: (operation.security as Json[]).flatMap((requirement) => Object.keys(requirement)),
          responses: operation.responses as Record<string, Json>,
        })
      }
    }
  }

  get operationIds(): string[] {
    return [...this.#operations.keys()]
  }

  operation(operationId: string): DocumentedOperation {
    const operation = this.#operations.get(operationId)
    if (operation === undefined) throw new Error(`no operation ${operationId} in the document`)
    return operation
  }

  /**
   * Validates an answer of `operationId`. `bodyless` leaves the body unread (an endless event stream): only
   * the status and media type are checked then.
   */
  async check(
    operationId: string,
    response: Response,
    options: { bodyless?: boolean } = {},
  ): Promise<CheckedAnswer> {
    const operation = this.operation(operationId)
    const status = response.status
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => operation.responses[k])
    if (key === undefined) {
      const text = await response.text()
      throw new Error(
        `${operationId} answered ${status}, which the document does not list: ${text.slice(0, 300)}`,
      )
    }
    let documented = operation.responses[key] as Json
    let pointer = `${operation.pointer}/responses/${escapePointer(key)}`
    if (typeof documented.$ref === 'string') {
      pointer = documented.$ref.slice(1)
      documented = resolvePointer(this.#document, pointer)
    }
    const statuses = this.checked.get(operationId) ?? new Set<number>()
    statuses.add(status)
    this.checked.set(operationId, statuses)

    const content = documented.content as Record<string, Json> | undefined
    if (options.bodyless === true) {
      await response.body?.cancel()
      if (content !== undefined) this.#mediaType(operationId, status, content, response)
      return { status, body: undefined }
    }
    const text = await response.text()
    if (content === undefined) {
      if (text !== '')
        throw new Error(`${operationId} answered ${status} with a body the document does not list`)
      return { status, body: undefined }
    }
    const mediaType = this.#mediaType(operationId, status, content, response)
    const body: unknown = mediaType.endsWith('json') ? JSON.parse(text) : text
    const schemaPointer = `${pointer}/content/${escapePointer(mediaType)}/schema`
    const validate = this.#ajv.compile({ $ref: `openapi#${schemaPointer}` })
    if (!validate(body)) {
      throw new Error(
        `${operationId} answered ${status} with a body that does not match the document: ${this.#ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`,
      )
    }
    return { status, body }
  }

  #mediaType(operationId: string, status: number, content: Record<string, Json>, response: Response): string {
    const received = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? ''
    if (content[received] === undefined) {
      throw new Error(
        `${operationId} answered ${status} as ${received || 'no content type'}, not ${Object.keys(content).join(' or ')}`,
      )
    }
    return received
  }
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1')
}

function resolvePointer(document: Json, pointer: string): Json {
  let current: unknown = document
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    current = (current as Json)[segment]
  }
  return current as Json
}
