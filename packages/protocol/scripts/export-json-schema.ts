import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { protocolJsonSchema } from '../src/json-schema.js'

// Writes the protocol's JSON Schema to the path given (used by the build and by docs).
const target = process.argv[2] ?? 'dist/protocol.schema.json'
mkdirSync(dirname(target), { recursive: true })
writeFileSync(target, `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`)
