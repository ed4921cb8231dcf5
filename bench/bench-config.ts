/** Sizes and limits of one bench run; `--quick` shrinks them to about a minute or two in all. */
export interface BenchConfig {
  quick: boolean;
  /** Measured runs per scenario and system (medians and min–max over them). */
  runs: number;
  /** Scenario 1: items published while consumers run (`--items=N` sets it and the next one). */
  endToEndItems: number;
  /** Scenario 2: items published to an idle queue, then consumed. */
  publishConsumeItems: number;
  /** Publishes each system has in flight at once (a producer with that much concurrency). */
  publishConcurrency: number;
  /** Scenario 3: publish rates (the issue's, then a low one) and duration. */
  latencyRatePerSecond: number;
  lowLatencyRatePerSecond: number;
  latencySeconds: number;
  /** Scenario 4: end-to-end runs at each of these sizes (`--scale=10000,100000,1000000`). */
  scaleItems: number[];
  /** Scenario 5: backlog a kanban process publishes and holds, over this many domains. */
  backlogItems: number;
  backlogDomains: number;
  /**
   * Scenario 6: domains, each with three priority queues holding this many items (the 500;
   * `--per-queue=N` changes it: a depth sample costs per queue, not per item).
   */
  manyDomains: number;
  itemsPerQueue: number;
  /** Scenario 8: items each server/NATS layout carries over HTTP, per run. */
  scaleOutItems: number;
  /** Scenario 9: items of the heavy group, published first; then the light groups with a few items each. */
  fairShareHeavyItems: number;
  fairShareLightGroups: number;
  fairShareItemsPerLightGroup: number;
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
  const items = value('items') === undefined ? undefined : Number(value('items'));
  return {
    quick,
    runs: Number(value('runs') ?? (quick ? 1 : 3)),
    endToEndItems: items ?? (quick ? 5_000 : 50_000),
    publishConsumeItems: items ?? (quick ? 5_000 : 50_000),
    publishConcurrency: 100,
    latencyRatePerSecond: 2_000,
    lowLatencyRatePerSecond: 500,
    latencySeconds: quick ? 2 : 10,
    scaleItems: value('scale') ? list('scale').map(Number) : quick ? [1_000, 5_000] : [10_000, 100_000, 1_000_000],
    backlogItems: quick ? 5_000 : 100_000,
    backlogDomains: 20,
    manyDomains: quick ? 20 : 200,
    itemsPerQueue: Number(value('per-queue') ?? (quick ? 10 : 500)),
    scaleOutItems: quick ? 1_000 : 10_000,
    fairShareHeavyItems: quick ? 10_000 : 100_000,
    fairShareLightGroups: 100,
    fairShareItemsPerLightGroup: 10,
    failoverCycles: quick ? 1 : 3,
    // A scale run of N items may take up to N ms per run (scale.ts), and a scenario's runs of one system up to twice this.
    runTimeoutMs: Math.max(quick ? 60_000 : 180_000, ...(value('scale') ? list('scale').map(Number) : [])),
    systems: list('only'),
    scenarios: list('scenario'),
    writeDoc: flag('doc') || (!quick && !filtered && !flag('no-doc')),
  };
}
