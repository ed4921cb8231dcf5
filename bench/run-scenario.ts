import type { ScenarioResults, SystemRuns } from './report/bench-results';
import { formatNumber } from './report/statistics';
import type { Scenario, ScenarioContext } from './scenarios/scenario';
import { SystemSkippedError } from './systems/queue-system';

/**
 * Runs a scenario `runs` times over its systems, alternating: each round runs every system once,
 * and the order rotates by one each round so no system always runs first (cold broker) or last.
 * A system skipped once (SystemSkippedError) stays skipped for the rest of the bench.
 */
export async function runScenario(scenario: Scenario, context: ScenarioContext, skipped: Map<string, string>): Promise<ScenarioResults> {
  const { config } = context;
  const systems = scenario.systems.filter((system) => config.systems.length === 0 || config.systems.includes(system.id));
  const results: SystemRuns[] = systems.map((system) => ({
    id: system.id,
    label: system.label,
    runs: [],
    errors: [],
    skipped: system.unavailable(context.brokers) ?? skipped.get(system.id),
  }));
  const runs = scenario.runs?.(config) ?? config.runs;
  context.log(`${scenario.title}: ${scenario.describe(config)}`);
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < systems.length; i++) {
      const index = (i + round) % systems.length;
      const [system, result] = [systems[index], results[index]];
      if (result.skipped) continue;
      const started = performance.now();
      try {
        const measurement = await withTimeout(scenario.measure(system, context), scenario.timeoutMs?.(config) ?? config.runTimeoutMs * 2, `${scenario.id} on ${system.label}`);
        result.runs.push(measurement);
        const shown = Object.entries(measurement)
          .map(([key, value]) => `${key}=${formatNumber(value)}`)
          .join(' ');
        context.log(`  run ${round + 1}/${runs} ${system.label}: ${shown} (${((performance.now() - started) / 1_000).toFixed(1)} s)`);
      } catch (error) {
        const message = (error as Error).message;
        if (error instanceof SystemSkippedError) {
          result.skipped = message;
          skipped.set(system.id, message);
          context.log(`  ${system.label}: skipped, ${message}`);
        } else {
          result.errors.push(message);
          context.log(`  run ${round + 1}/${runs} ${system.label}: FAILED ${message}`);
        }
      }
    }
  }
  return { id: scenario.id, title: scenario.title, description: scenario.describe(config), metrics: scenario.metrics, systems: results };
}

/** Last resort against a run that hangs past its own timeouts: the bench moves on and says so. */
function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
