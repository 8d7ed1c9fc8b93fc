import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SdkFixture } from '../support/sdk-agents.js'

const run = promisify(execFile)
const GATEWAY_DIR = join(dirname(fileURLToPath(import.meta.url)), '../..')
const DOCS = join(GATEWAY_DIR, '../../docs/a2a.md')
/** The URL the docs examples name; the test replaces it with its gateway's. */
const DOCS_URL = 'https://parley.example'
const TOKEN = 'docs-example-token-0123456789'

/** The code blocks of docs/a2a.md whose fence reads ```<language> a2a-example. */
async function docsExamples(language: string): Promise<string[]> {
  const text = await readFile(DOCS, 'utf8')
  const fence = new RegExp(`^\`\`\`${language} a2a-example\\n([\\s\\S]*?)^\`\`\`$`, 'gm')
  return [...text.matchAll(fence)].map((match) => match[1] as string)
}

describe('docs/a2a.md examples', () => {
  const fixture = new SdkFixture()
  let workDir = ''

  beforeAll(async () => {
    // The TypeScript example runs from a folder that resolves the gateway's dependencies (@a2a-js/sdk).
    workDir = await mkdtemp(join(tmpdir(), 'parley-a2a-docs-'))
    await symlink(join(GATEWAY_DIR, 'node_modules'), join(workDir, 'node_modules'), 'dir')
  })

  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true })
  })

  afterEach(async () => {
    await fixture.dispose()
  })

  async function echoAgent(): Promise<void> {
    await fixture.start({ authToken: TOKEN })
    const echo = fixture.agent({ agentId: 'echo', capabilities: ['echo'], authToken: TOKEN })
    echo.handle((data) => `echo: ${String(data)}`)
    echo.handleStream(async (data, sink) => {
      for (const word of `${String(data)} again`.split(' ')) await sink.write(word)
    })
    await echo.connect()
  }

  it('marks exactly one TypeScript and one curl example', async () => {
    expect(await docsExamples('ts')).toHaveLength(1)
    expect(await docsExamples('sh')).toHaveLength(1)
  })

  it('runs the TypeScript example (@a2a-js/sdk: createFromUrl, sendMessage, sendMessageStream) against a gateway', async () => {
    await echoAgent()
    const [example] = await docsExamples('ts')
    expect(example).toContain("createFromUrl('https://parley.example/a2a/echo/')")
    const file = join(workDir, 'client-example.mts')
    await writeFile(file, (example ?? '').replaceAll(DOCS_URL, fixture.url))
    const { stdout } = await run(join(GATEWAY_DIR, 'node_modules/.bin/tsx'), [file], {
      cwd: workDir,
      env: { ...process.env, PARLEY_TOKEN: TOKEN },
      timeout: 60_000,
    })
    expect(stdout.trim().split('\n')).toEqual([
      'echo: hi',
      'chunk hi',
      'chunk again',
      'state TASK_STATE_COMPLETED',
    ])
  }, 90_000)

  it('runs the curl example (raw JSON-RPC SendMessage, A2A-Version 1.0, bearer token) against a gateway', async () => {
    await echoAgent()
    const [example] = await docsExamples('sh')
    expect(example).toContain('A2A-Version: 1.0')
    const { stdout } = await run('sh', ['-c', (example ?? '').replaceAll(DOCS_URL, fixture.url)], {
      env: { ...process.env, PARLEY_TOKEN: TOKEN },
      timeout: 30_000,
    })
    expect(JSON.parse(stdout)).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      result: {
        task: {
          status: { state: 'TASK_STATE_COMPLETED' },
          artifacts: [{ artifactId: 'answer', parts: [{ text: 'echo: hi' }] }],
        },
      },
    })
    // Without the token the same command is refused.
    const refused = await run('sh', ['-c', (example ?? '').replaceAll(DOCS_URL, fixture.url)], {
      env: { ...process.env, PARLEY_TOKEN: 'wrong-token' },
      timeout: 30_000,
    })
    expect(refused.stdout).not.toContain('TASK_STATE_COMPLETED')
  }, 60_000)
})
