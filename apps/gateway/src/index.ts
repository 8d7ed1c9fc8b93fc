export { ADMIN_TOKEN_FILE, resolveAdminToken } from './admin/admin-token.js'
export type { AuthProvider, AuthRequest, AuthResult, Principal } from './auth/auth-provider.js'
export { scopeAllows } from './auth/scopes.js'
export {
  assertSafeBind,
  CONFIG_SOURCES,
  ConfigError,
  type GatewayConfig,
  type GatewayConfigInput,
  GatewayConfigSchema,
  isLoopbackHost,
  parseConfig,
} from './config.js'
export {
  type CreateGatewayOptions,
  createGateway,
  GATEWAY_VERSION,
  type Gateway,
  type GatewayState,
  type GatewayStats,
  type StartedGateway,
  type StopOptions,
} from './create-gateway.js'
export { GatewayError } from './errors.js'
export type { GatewayApp } from './http/create-app.js'
