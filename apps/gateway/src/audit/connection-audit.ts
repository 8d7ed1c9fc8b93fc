import type { AuditLog, AuditRecord, StoredDelivery } from '@parley/stores'
import type { Logger } from 'pino'

/** Who did something on a connection, as the audit trail names it. */
export interface AuditSubject {
  readonly id: string
  readonly principal: string
  readonly clientId: string
}

/**
 * Recording helpers for the routing path. `record` only buffers, and any failure is logged and swallowed,
 * so auditing can never slow down or break message routing.
 */
export function createConnectionAudit(audit: Pick<AuditLog, 'record' | 'behind'>, logger: Logger) {
  function record(entry: AuditRecord): void {
    try {
      audit.record(entry)
    } catch (error) {
      logger.warn({ err: error, kind: entry.kind }, 'audit record failed')
    }
  }

  function subjectFields(
    subject: AuditSubject,
  ): Pick<AuditRecord, 'principal' | 'clientId' | 'connectionId'> {
    return {
      principal: subject.principal,
      clientId: subject.clientId || null,
      connectionId: subject.id,
    }
  }

  return {
    record,
    /** The audit log's writer is behind the traffic (see `AuditLog.behind`): new requests wait for it. */
    behind: (): boolean => audit.behind === true,
    connect(subject: AuditSubject): void {
      record({ kind: 'connect', outcome: 'ok', ...subjectFields(subject) })
    },
    disconnect(subject: AuditSubject, closeCode: number): void {
      record({ kind: 'disconnect', outcome: 'ok', detail: `close ${closeCode}`, ...subjectFields(subject) })
    },
    subscribe(
      subject: AuditSubject,
      channel: string,
      outcome: 'ok' | 'denied' = 'ok',
      detail?: string,
    ): void {
      record({ kind: 'subscribe', outcome, channel, detail: detail ?? null, ...subjectFields(subject) })
    },
    unsubscribe(subject: AuditSubject, channel: string): void {
      record({ kind: 'unsubscribe', outcome: 'ok', channel, ...subjectFields(subject) })
    },
    publish(subject: AuditSubject, channel: string, size: number, delivered: number): void {
      record({
        kind: 'publish',
        outcome: 'ok',
        channel,
        size,
        detail: `delivered ${delivered}`,
        ...subjectFields(subject),
      })
    },
    broadcast(subject: AuditSubject, size: number, delivered: number): void {
      record({
        kind: 'broadcast',
        outcome: 'ok',
        size,
        detail: `delivered ${delivered}`,
        ...subjectFields(subject),
      })
    },
    send(subject: AuditSubject, recipient: string, size: number): void {
      record({ kind: 'send', outcome: 'ok', target: recipient, size, ...subjectFields(subject) })
    },
    /** A delivery moved to the dead-letter queue: the gateway did it, so there is no principal. */
    deadLetter(delivery: StoredDelivery, reason: string): void {
      record({
        kind: 'dead_letter',
        outcome: 'error',
        principal: null,
        // The client that failed to process it; the sender is in the detail.
        clientId: delivery.recipient,
        connectionId: null,
        channel: delivery.channel,
        target: delivery.recipient,
        detail: `${delivery.id} from ${delivery.source}: ${reason} after ${delivery.attempts} attempts`,
      })
    },
    /** An operator requeued a dead letter through the admin API. */
    requeue(delivery: StoredDelivery): void {
      record({
        kind: 'requeue',
        outcome: 'ok',
        principal: 'admin',
        clientId: null,
        connectionId: null,
        channel: delivery.channel,
        target: delivery.recipient,
        detail: delivery.id,
      })
    },
    /** A request refused for a missing scope; the connection stays usable. */
    denied(
      subject: AuditSubject,
      kind: 'subscribe' | 'publish' | 'send' | 'broadcast',
      where: { channel?: string; target?: string },
      detail: string,
    ): void {
      record({
        kind,
        outcome: 'denied',
        channel: where.channel ?? null,
        target: where.target ?? null,
        detail,
        ...subjectFields(subject),
      })
    },
    /** An operator action through the admin API; `detail` names the action, never a secret. */
    admin(
      principal: string,
      detail: string,
      outcome: 'ok' | 'denied' | 'error' = 'ok',
      target?: string,
    ): void {
      record({
        kind: 'admin',
        outcome,
        principal,
        clientId: null,
        connectionId: null,
        target: target ?? null,
        detail,
      })
    },
    authFailure(entry: { connectionId?: string; clientId?: string; detail: string }): void {
      record({
        kind: 'auth_failure',
        outcome: 'denied',
        principal: null,
        clientId: entry.clientId ?? null,
        connectionId: entry.connectionId ?? null,
        detail: entry.detail,
      })
    },
  }
}

export type ConnectionAudit = ReturnType<typeof createConnectionAudit>
