import type { AuditVerifier } from '../audit/audit-verification.js'
import type { GatewayApp } from '../http/create-app.js'
import { mountAdminRoutes } from './admin-routes.js'

/**
 * `GET /api/admin/audit/verification`: how far the audit chain verifies against this node's signed checkpoints
 * (audit/audit-verification.ts keeps the result and walks only new rows). Schema: `AuditVerification`.
 */
export function registerAuditVerificationRoutes(app: GatewayApp, deps: { verifier: AuditVerifier }): void {
  mountAdminRoutes(app, { auditVerification: () => deps.verifier.current() })
}
