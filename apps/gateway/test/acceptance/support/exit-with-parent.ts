/**
 * Preloaded (`--import`) into the gateway processes the acceptance tests spawn: when the test runner dies,
 * even by SIGKILL, the IPC channel closes and the gateway exits instead of lingering with its port.
 */
if (process.send !== undefined) {
  process.on('disconnect', () => process.exit(0))
}
