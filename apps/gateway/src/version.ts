import packageJson from '../package.json' with { type: 'json' }

export const GATEWAY_VERSION: string = packageJson.version
