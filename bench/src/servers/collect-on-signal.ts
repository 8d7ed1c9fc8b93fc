/**
 * Preloaded (`--import`, with `--expose-gc`) into the servers of the connections scenario: SIGUSR2 runs a full
 * garbage collection, so the bench reads every server's RSS with its garbage collected (a freshly started
 * gateway holds hundreds of MB of start-up garbage until some later collection, which would make connections
 * look free), the same way for every target.
 */
const collect = (globalThis as { gc?: () => void }).gc
process.on('SIGUSR2', () => collect?.())
