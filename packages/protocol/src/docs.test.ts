import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CLOSE_CODES } from './close-codes.js'
import { ERROR_CODE_NAMES } from './errors.js'
import { CLIENT_FRAME_TYPES, ServerFrame } from './frames.js'

// docs/protocol.md must document every frame, error code and close code the schemas define.
const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8')

describe('docs/protocol.md', () => {
  it('documents every client and server frame type', () => {
    const serverTypes = ServerFrame.options.map((option) => option.shape.type.value)
    for (const type of [...CLIENT_FRAME_TYPES, ...serverTypes]) {
      expect(doc, type).toContain(`"type": "${type}"`)
    }
  })
  it('lists every error code', () => {
    for (const code of ERROR_CODE_NAMES) expect(doc, code).toContain(`\`${code}\``)
  })
  it('lists every close code with its number', () => {
    for (const [name, entry] of Object.entries(CLOSE_CODES)) {
      expect(doc, name).toMatch(new RegExp(`\\| ${entry.code} \\| \`${name}\``))
    }
  })
})
