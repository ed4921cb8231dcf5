/**
 * Runs tests that need a tool of the machine (promtool, root for network namespaces) only where it
 * is there. On CI (`CI` set) a missing tool fails the run instead: .ci/run installs them all, so a
 * skip there would hide checks that never ran.
 */
function requireOnCi(available: boolean, missing: string): void {
  if (!available && process.env.CI) throw new Error(`${missing}; CI must run these tests`);
}

export function describeIfAvailable(available: boolean, missing: string): jest.Describe {
  requireOnCi(available, missing);
  return available ? describe : describe.skip;
}

export function itIfAvailable(
  available: boolean,
  missing: string,
  run: (name: string, test: () => Promise<void>, timeoutMs?: number) => void,
): (name: string, test: () => Promise<void>, timeoutMs?: number) => void {
  requireOnCi(available, missing);
  return available ? run : (name) => it.skip(`${name} [${missing}]`, () => undefined);
}
