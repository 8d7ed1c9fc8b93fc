// Build step: `tsx src/stores/make-embedded-template.ts` writes the embedded database template (see
// embedded-template.ts) after tsdown has emptied `dist`.
import { rm } from 'node:fs/promises'
import { createEmbeddedTemplate } from '@parley/stores'
import { embeddedTemplateDir } from './embedded-template.js'

const templateDir = embeddedTemplateDir()
await rm(templateDir, { recursive: true, force: true })
await createEmbeddedTemplate(templateDir)
