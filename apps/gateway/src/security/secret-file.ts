import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * A value generated once and kept in a file of the data directory (mode 0600): read it when the file exists,
 * else write `created` with `wx`, so of two gateways starting at once on the same folder the second reads the
 * first one's value. `parse` turns the file's text into the value, or throws when the file holds something else.
 * Returns the value and whether this call created it.
 */
export async function readOrCreateSecretFile<T>(
  file: string,
  created: { text: string; value: T },
  parse: (text: string) => T,
): Promise<{ value: T; created: boolean }> {
  const stored = await readText(file)
  if (stored !== undefined) return { value: parse(stored), created: false }
  await mkdir(dirname(file), { recursive: true })
  try {
    await writeFile(file, `${created.text}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const winner = await readText(file)
    if (winner === undefined) throw error
    return { value: parse(winner), created: false }
  }
  return { value: created.value, created: true }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
