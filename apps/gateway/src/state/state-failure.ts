// The typed errors of state frames: refusals the service decides, and store failures the client caused.
import { type ErrorBody, errorBody } from '@parley/protocol'
import { InvalidStateEntryError, StateValueTooLargeError, StateVersionConflictError } from '@parley/stores'

export class StateFailure extends Error {
  constructor(readonly body: ErrorBody) {
    super(body.message)
  }
}

/** The typed error of a store failure a client caused; undefined for the others (a store that is down). */
export function storeFailure(error: unknown): ErrorBody | undefined {
  if (error instanceof StateFailure) return error.body
  if (error instanceof StateVersionConflictError) {
    return errorBody('version_conflict', error.message, undefined, { currentVersion: error.currentVersion })
  }
  if (error instanceof StateValueTooLargeError) return errorBody('payload_too_large', error.message)
  if (error instanceof InvalidStateEntryError) return errorBody('bad_request', error.message)
  return undefined
}
