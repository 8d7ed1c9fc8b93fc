import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/**
 * The Ed25519 key that signs audit checkpoints: read from `file` (PEM, PKCS#8), or generated and written there
 * (mode 0600) when the file does not exist and `create` is set.
 */
export async function loadAuditSigningKey(file: string, options: { create: boolean }): Promise<KeyObject> {
  try {
    return parseEd25519(await readFile(file, 'utf8'), file, 'private')
  } catch (error) {
    if (!options.create || (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const { privateKey } = generateKeyPairSync('ed25519')
  await mkdir(dirname(file), { recursive: true })
  // `wx`: two nodes sharing a data folder must not overwrite each other's key; the loser reads the winner's.
  await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
    flag: 'wx',
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error
  })
  return parseEd25519(await readFile(file, 'utf8'), file, 'private')
}

/** The public key in a PEM file holding an Ed25519 public or private key (the verifier's trusted keys). */
export async function loadAuditPublicKey(file: string): Promise<KeyObject> {
  return parseEd25519(await readFile(file, 'utf8'), file, 'public')
}

function parseEd25519(pem: string, file: string, want: 'private' | 'public'): KeyObject {
  const key = pem.includes('PRIVATE KEY') ? createPrivateKey(pem) : createPublicKey(pem)
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} does not hold an Ed25519 key`)
  if (want === 'public') return createPublicKey(key)
  if (key.type !== 'private') throw new Error(`${file} holds a public key; signing needs the private key`)
  return key
}
