/**
 * `@parley/client/node`: helpers that need Node built-ins, kept out of the main entry so browser bundles never
 * import `node:fs`.
 */
export { loadIdentity, type SaveIdentityOptions, saveIdentity } from './identity-files.js'
