import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AuditChainStore, type AuditLog, createMemoryAuditLog } from '@parley/stores'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAuditCheckpoints } from './audit-checkpoints.js'
import { createAuditVerification } from './audit-verification.js'

describe('kept audit verification', () => {
  let dir: string
  let log: AuditLog
  let checkpoints: ReturnType<typeof createAuditCheckpoints>
  let reads: bigint[]

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-audit-verification-'))
    const memory = createMemoryAuditLog()
    const chain = memory.chain as AuditChainStore
    reads = []
    // Counts where each chain read starts, to show that a second call walks only the new rows.
    log = {
      ...memory,
      chain: {
        ...chain,
        readChain: (afterSeq, limit) => {
          reads.push(afterSeq)
          return chain.readChain(afterSeq, limit)
        },
      },
    }
    checkpoints = createAuditCheckpoints({
      audit: () => log,
      dir: join(dir, 'checkpoints'),
      signingKeyFile: join(dir, 'key.pem'),
      everyRows: 1_000_000,
      intervalMs: 3_600_000,
      retentionMs: 0,
      logger: pino({ level: 'silent' }),
    })
    await checkpoints.start()
  })

  afterEach(async () => {
    await checkpoints.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const verifier = () =>
    createAuditVerification({
      audit: () => log,
      dir: join(dir, 'checkpoints'),
      signingKeyFile: join(dir, 'key.pem'),
      maxAgeMs: 0,
    })

  function record(count: number): void {
    for (let index = 0; index < count; index += 1) {
      log.record({ kind: 'publish', outcome: 'ok', principal: 'p', channel: 'news', detail: `row ${index}` })
    }
  }

  it('says verified up to the newest checkpoint, walking only the rows appended since the last call', async () => {
    record(5)
    await checkpoints.checkpoint()
    const verification = verifier()
    const first = await verification.current()
    expect(first).toMatchObject({ state: 'verified', rows: 5, lastSeq: '5', checkpointsMatched: 1 })
    expect(first.checkpoint?.seq).toBe('5')

    record(3)
    await checkpoints.checkpoint()
    reads = []
    const second = await verification.current()
    expect(second).toMatchObject({ state: 'verified', rows: 8, lastSeq: '8', checkpointsMatched: 2 })
    expect(second.checkpoint?.seq).toBe('8')
    expect(reads[0]).toBe(5n)
  })

  it('matches a checkpoint signed after its rows were verified', async () => {
    record(4)
    const verification = verifier()
    expect((await verification.current()).checkpoint).toBeNull()
    await checkpoints.checkpoint()
    expect((await verification.current()).checkpoint?.seq).toBe('4')
  })

  it('fails, naming why, when a checkpoint file was changed', async () => {
    record(2)
    await checkpoints.checkpoint()
    const [file] = await readdir(join(dir, 'checkpoints'))
    const path = join(dir, 'checkpoints', file as string)
    const checkpoint = JSON.parse(await readFile(path, 'utf8')) as { hash: string }
    await writeFile(path, JSON.stringify({ ...checkpoint, hash: 'f'.repeat(64) }))
    const result = await verifier().current()
    expect(result.state).toBe('failed')
    expect(result.problem?.reason).toMatch(/not signed by a trusted key/)
  })

  it('is unavailable without a chained audit log', async () => {
    const result = await createAuditVerification({
      audit: () => undefined,
      dir,
      signingKeyFile: join(dir, 'key.pem'),
    }).current()
    expect(result.state).toBe('unavailable')
  })
})
