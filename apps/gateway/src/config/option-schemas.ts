import { isIP } from 'node:net'
import { z } from 'zod'

/** Option types shared by the config sections: how numbers, booleans and address lists arrive. */

export const MiB = 1024 * 1024

/** Numbers arrive as numbers from code and as strings from flags and the environment. */
export function numberOption(what: string) {
  return z.coerce.number<number | string>({ error: `must be ${what}` })
}
export const positiveInt = () =>
  numberOption('a positive whole number').pipe(
    z.number().int('must be a whole number').positive('must be a positive whole number'),
  )
export const positiveSeconds = () =>
  numberOption('a positive number of seconds').pipe(
    z.number().positive('must be a positive number of seconds'),
  )

export const nonNegativeInt = () =>
  numberOption('a whole number, 0 or more').pipe(
    z.number().int('must be a whole number').nonnegative('must not be negative'),
  )
export const nonNegativeSeconds = () =>
  numberOption('a number of seconds').pipe(z.number().nonnegative('must not be negative'))
/** Booleans arrive as booleans from code and as `true`/`false` (or `1`/`0`) from the environment. */
export const booleanOption = () =>
  z.union([
    z.boolean(),
    z
      .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
      .transform((value) => value === 'true' || value === '1'),
  ])

/** `10.0.0.0/8,::1` (environment) or an array (code): addresses or CIDR blocks, IPv4 or IPv6. */
export const AddressBlocksSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(','))
      .map((block) => block.trim())
      .filter((block) => block.length > 0),
  )
  .pipe(
    z.array(
      z.string().refine(isAddressBlock, {
        error: (issue) =>
          `${JSON.stringify(issue.input)} is not an IP address or CIDR block (such as 10.0.0.0/8)`,
      }),
    ),
  )

/** An IP address or `address/prefix`, with a prefix that fits the address family. */
export function isAddressBlock(block: string): boolean {
  const [address = '', prefix, ...rest] = block.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  if (!/^\d{1,3}$/.test(prefix)) return false
  return Number(prefix) <= (family === 4 ? 32 : 128)
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
