import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { benchConfig, type BenchConfig } from './bench-config';
import { startBenchBrokers } from './brokers/bench-brokers';
import { machineInfo } from './brokers/machine-info';
import { scenarioTable } from './report/console-table';
import { writeResultsFile, type BenchResults } from './report/bench-results';
import { writeResultsDoc } from './report/results-markdown';
import { checkTargets, verdict } from './report/targets';
import { runScenario } from './run-scenario';
import { backlogMemoryScenario } from './scenarios/backlog-memory';
import { endToEndScenario } from './scenarios/end-to-end';
import { fairShareScenario } from './scenarios/fair-share';
import { failoverScenario } from './scenarios/failover-switch';
import { latencyScenario } from './scenarios/latency';
import { manyDomainsScenario } from './scenarios/many-domains';
import { publishConsumeScenario } from './scenarios/publish-consume';
import { scaleScenario } from './scenarios/scale';
import { scaleOutScenario } from './scenarios/scale-out';
import type { Scenario, ScenarioContext } from './scenarios/scenario';
import { bullMq } from './systems/bullmq';
import { kanbanEmbedded, kanbanEmbeddedTuned } from './systems/kanban-embedded';
import { kanbanFailover } from './systems/kanban-failover';
import { kanbanNats, kanbanNatsTuned } from './systems/kanban-nats';
import { kanbanRabbitMq, kanbanRabbitMqTuned } from './systems/kanban-rabbitmq';
import { rawAmqplib } from './systems/raw-amqplib';
import { rawJetStream, rawJetStreamConfirmed } from './systems/raw-jetstream';

/** Items of the unrecorded pass that warms every system up (JIT, connections, broker caches) before measuring. */
const WARM_UP_ITEMS = 1_000;

/** Every scenario in the order they run; failover last, since it kills nats-server. */
function scenarios(config: BenchConfig): Scenario[] {
  // Each kanban system sits next to its reference, so alternating runs compare neighbours in time.
  // raw JetStream (confirmed) only where kanban/NATS is compared per item: throughput and latency.
  const core = (confirmed = false) => [kanbanNats(), rawJetStream(), ...(confirmed ? [rawJetStreamConfirmed()] : []), kanbanRabbitMq(), rawAmqplib(), kanbanEmbedded(), bullMq(), kanbanFailover()];
  return [
    endToEndScenario([
      kanbanNats(),
      kanbanNatsTuned(),
      rawJetStream(),
      rawJetStreamConfirmed(),
      kanbanRabbitMq(),
      kanbanRabbitMqTuned(),
      rawAmqplib(),
      kanbanEmbedded(),
      kanbanEmbeddedTuned(),
      bullMq(),
      kanbanFailover(),
    ]),
    publishConsumeScenario(core()),
    latencyScenario(core(true), config.latencyRatePerSecond),
    latencyScenario(core(true), config.lowLatencyRatePerSecond, 'latency-low'),
    scaleScenario([kanbanNats(), rawJetStream(), kanbanEmbedded()], config),
    backlogMemoryScenario([kanbanNats(), kanbanRabbitMq(), kanbanEmbedded()]),
    manyDomainsScenario([kanbanNats(), kanbanRabbitMq(), kanbanEmbedded()]),
    fairShareScenario([kanbanNats(), kanbanRabbitMq(), bullMq(), kanbanEmbedded()]),
    scaleOutScenario(),
    failoverScenario(),
  ];
}

async function main(): Promise<void> {
  const config = benchConfig(process.argv.slice(2));
  const startedAt = new Date();
  const tempDir = mkdtempSync(join(tmpdir(), 'tps-kanban-bench-'));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`[bench] ${config.quick ? 'quick' : 'full'} run: ${config.runs} run(s) per system; starting brokers on loopback`);
  const brokers = await startBenchBrokers();
  const stopAll = async () => {
    await brokers.stop();
    rmSync(tempDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    for (const [name, why] of Object.entries(brokers.missing)) log(`[bench] ${name} unavailable, its systems are skipped: ${why}`);
    let tag = 0;
    const context: ScenarioContext = { brokers, config, tempDir, nextTag: () => `r${++tag}`, log };
    const selected = scenarios(config).filter((s) => config.scenarios.length === 0 || config.scenarios.includes(s.id));
    const skipped = new Map<string, string>();
    await warmUp(selected, context, skipped);
    const results: BenchResults = { startedAt: startedAt.toISOString(), durationSeconds: 0, command: commandLine(), config, machine: machineInfo(), scenarios: [] };
    for (const scenario of selected) results.scenarios.push(await runScenario(scenario, context, skipped));
    results.durationSeconds = Math.round((Date.now() - startedAt.getTime()) / 1_000);

    log('');
    for (const scenario of results.scenarios) log(`${scenarioTable(scenario)}\n`);
    log('Targets (medians of this run):');
    for (const check of checkTargets(results)) log(`  ${verdict(check).padEnd(12)} ${check.target}: ${check.measured}`);
    const file = writeResultsFile(results);
    log(`\n[bench] results written to ${relative(process.cwd(), file)}`);
    if (config.writeDoc) {
      writeResultsDoc(results, file);
      log('[bench] docs/benchmarks.md results section and charts regenerated');
    }
  } finally {
    await stopAll();
  }
}

/** One small unrecorded end-to-end pass per system of the selected scenarios. */
async function warmUp(selected: Scenario[], context: ScenarioContext, skipped: Map<string, string>): Promise<void> {
  const ids = new Set(selected.flatMap((s) => s.systems.map((system) => system.id)));
  const systems = scenarios(context.config)[0].systems.filter((system) => ids.has(system.id));
  const config: BenchConfig = { ...context.config, runs: 1, endToEndItems: WARM_UP_ITEMS };
  const quiet: ScenarioContext = { ...context, config, log: () => undefined };
  const result = await runScenario(endToEndScenario(systems), quiet, skipped);
  for (const system of result.systems) {
    if (system.errors.length) context.log(`[bench] warm-up of ${system.label} failed: ${system.errors[0]}`);
  }
  context.log(
    `[bench] warmed up: ${result.systems
      .filter((s) => s.runs.length)
      .map((s) => s.label)
      .join(', ')}`,
  );
}

function commandLine(): string {
  const args = process.argv.slice(2);
  return ['npm run bench', ...(args.length ? ['--', ...args] : [])].join(' ');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`[bench] failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
