/** Sent in `hello.client` so the gateway can log which SDK connected. Kept equal to package.json by a test. */
export const CLIENT_NAME = '@parley/client'
export const CLIENT_VERSION = '0.1.0'
