import { z } from 'zod'
import { JsonPathError, parseJsonPath } from '../capture/json-redaction.js'
import { nonNegativeSeconds, positiveInt } from './option-schemas.js'

/** `a,b` (environment) or `['a', 'b']` (code): a list of non-empty strings. */
const stringList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(','))
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  )

/**
 * Conversation replay: payload capture of agent requests and streams. Off unless an agent or a policy rule is
 * named; what `redact` reaches is replaced before a payload is stored.
 */
export const CaptureConfigSchema = z.object({
  /** Agent ids (`*` matches any run of characters) whose exchanges are captured, as callee or as caller. */
  agents: stringList.default([]),
  /** Ids of allow policy rules: an exchange such a rule let through is captured. */
  policies: stringList.default([]),
  /** JSON paths (`$.password`, `$.user.token`, `$.items[*].key`, `$..secret`) replaced before storage. */
  redact: stringList
    .superRefine((paths, ctx) => {
      for (const path of paths) {
        try {
          parseJsonPath(path)
        } catch (error) {
          if (!(error instanceof JsonPathError)) throw error
          ctx.addIssue({ code: 'custom', message: error.message })
        }
      }
    })
    .default([]),
  /** Seconds captured payloads are kept; 0 keeps them until deleted by hand. */
  retention: nonNegativeSeconds().default(86_400),
  /** Largest payload stored (bytes of its JSON text); a larger one is recorded as truncated, without it. */
  maxPayloadBytes: positiveInt().default(65_536),
})
