import { randomUUID } from 'node:crypto'

export type IdPrefix = 'con' | 'ses' | 'client' | 'msg' | 'dlv' | 'node' | 'pol' | 'agt' | 'req' | 'str'

/** The one id generator: a readable prefix plus a random UUID without dashes. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`
}
