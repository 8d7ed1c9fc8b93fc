import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../config.js'
import { readEnvConfig } from '../env.js'

describe('capture configuration', () => {
  it('is off by default: no agent, no policy, nothing redacted, payloads kept a day once captured', () => {
    expect(parseConfig().capture).toEqual({
      agents: [],
      policies: [],
      redact: [],
      retention: 86_400,
      maxPayloadBytes: 65_536,
    })
  })

  it('reads comma-separated agents, policies and JSON paths from the environment', () => {
    const config = parseConfig(
      readEnvConfig({
        PARLEY_CAPTURE_AGENTS: 'billing, support-*',
        PARLEY_CAPTURE_POLICIES: 'pol_audit',
        PARLEY_CAPTURE_REDACT: '$.password,$..token',
        PARLEY_CAPTURE_RETENTION: '3600',
      }),
    )
    expect(config.capture).toMatchObject({
      agents: ['billing', 'support-*'],
      policies: ['pol_audit'],
      redact: ['$.password', '$..token'],
      retention: 3600,
    })
  })

  it('refuses a redaction path that is not a JSON path, naming the option and the path', () => {
    expect(() => parseConfig({ capture: { redact: ['password'] } })).toThrow(ConfigError)
    expect(() => parseConfig({ capture: { redact: ['password'] } })).toThrow(
      /capture\.redact \(PARLEY_CAPTURE_REDACT\): invalid JSON path "password"/,
    )
  })
})
