/**
 * The layering `pnpm check` enforces (see docs/architecture.md): no import circles anywhere, workspace
 * packages depend only downward (protocol ← stores, client ← gateway; the dashboard only on protocol), and
 * inside the gateway no domain folder reaches up into `transport/`.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const TESTS = '(\\.test\\.tsx?|\\.behaviour\\.ts)$|/test/|/e2e/'

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: split the shared part into a module both import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'gateway-domain-not-to-transport',
      severity: 'error',
      comment:
        'A gateway domain folder depends on peers/ (Connection, Peer, frame registry, close hooks), never on ' +
        'transport/, which runs the connections the domains serve. Only assembly/ (which builds the node and the ' +
        'HTTP app from all of them) and the top-level files (create-gateway.ts, cli.ts) sit above both.',
      from: { path: '^apps/gateway/src/(?!transport/|assembly/)[^/]+/' },
      to: { path: '^apps/gateway/src/transport/' },
    },
    {
      name: 'gateway-peers-are-low',
      severity: 'error',
      comment: 'peers/ is below every gateway domain: it imports no other gateway folder.',
      from: { path: '^apps/gateway/src/peers/' },
      to: { path: '^apps/gateway/src/(?!peers/)' },
    },
    {
      name: 'protocol-depends-on-nothing-internal',
      severity: 'error',
      from: { path: '^packages/protocol/' },
      to: { path: '^(packages/(?!protocol/)|apps/|bench/|e2e/)' },
    },
    {
      name: 'stores-depend-on-protocol-only',
      severity: 'error',
      from: { path: '^packages/stores/' },
      to: { path: '^(packages/(?!stores/|protocol/)|apps/|bench/|e2e/)' },
    },
    {
      name: 'client-depends-on-protocol-only',
      severity: 'error',
      from: { path: '^packages/client/' },
      to: { path: '^(packages/(?!client/|protocol/)|apps/|bench/|e2e/)' },
    },
    {
      name: 'gateway-depends-on-protocol-and-stores',
      severity: 'error',
      comment: 'Its tests may drive it with the client; its source may not.',
      from: { path: '^apps/gateway/', pathNot: TESTS },
      to: { path: '^(packages/client/|apps/(?!gateway/)|bench/|e2e/)' },
    },
    {
      name: 'gateway-tests-not-to-other-apps',
      severity: 'error',
      from: { path: '^apps/gateway/' },
      to: { path: '^(apps/(?!gateway/)|bench/|e2e/)' },
    },
    {
      name: 'dashboard-depends-on-protocol-only',
      severity: 'error',
      comment: 'The dashboard talks to the gateway over HTTP; it imports only the protocol schemas.',
      from: { path: '^apps/dashboard/' },
      to: { path: '^(apps/(?!dashboard/)|packages/(?!protocol/)|bench/|e2e/)' },
    },
    {
      name: 'e2e-drives-the-published-surface',
      severity: 'error',
      comment: 'End-to-end tests use the client and the protocol, never the apps or the stores.',
      from: { path: '^e2e/' },
      to: { path: '^(apps/|packages/stores/|bench/)' },
    },
    {
      name: 'bench-is-a-leaf',
      severity: 'error',
      comment: 'The bench may start a gateway and drive it with the client; nothing imports the bench.',
      from: { path: '^(?!bench/)' },
      to: { path: '^bench/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.next|\\.turbo|coverage)/' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
