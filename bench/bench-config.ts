/** Sizes and limits of one bench run; `--quick` shrinks them to about a minute or two in all. */
export interface BenchConfig {
  quick: boolean;
  /** Measured runs per scenario and system (medians and min–max over them). */
  runs: number;
  /** Scenario 1: items published while consumers run. */
  endToEndItems: number;
  /** Scenario 2: items published to an idle queue, then consumed. */
  publishConsumeItems: number;
  /** Publishes each system has in flight at once (a producer with that much concurrency). */
  publishConcurrency: number;
  /** Scenario 3: publish rate and duration. */
  latencyRatePerSecond: number;
  latencySeconds: number;
  /** Scenario 7: kill -9 / restart cycles. */
  failoverCycles: number;
  /** A run that has not finished after this long fails (the bench goes on with the next one). */
  runTimeoutMs: number;
  /** Only these system ids (`--only=a,b`); all when empty. */
  systems: string[];
  /** Only these scenario ids (`--scenario=a,b`); all when empty. */
  scenarios: string[];
  /** Rewrite the results section of docs/benchmarks.md (default for full runs; `--doc` / `--no-doc`). */
  writeDoc: boolean;
}

export function benchConfig(argv: string[]): BenchConfig {
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const list = (name: string) => (value(name) ?? '').split(',').filter(Boolean);
  const quick = flag('quick');
  const filtered = list('only').length > 0 || list('scenario').length > 0;
  return {
    quick,
    runs: Number(value('runs') ?? (quick ? 1 : 3)),
    endToEndItems: quick ? 10_000 : 50_000,
    publishConsumeItems: quick ? 10_000 : 50_000,
    publishConcurrency: 100,
    latencyRatePerSecond: 2_000,
    latencySeconds: quick ? 3 : 10,
    failoverCycles: quick ? 1 : 3,
    runTimeoutMs: quick ? 60_000 : 180_000,
    systems: list('only'),
    scenarios: list('scenario'),
    writeDoc: flag('doc') || (!quick && !filtered && !flag('no-doc')),
  };
}
