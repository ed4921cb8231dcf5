import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from '../brokers/machine-info';
import type { BenchConfig } from '../bench-config';
import type { Measurement, MetricSpec } from '../scenarios/scenario';
import { spread, type Spread } from './statistics';

export interface SystemRuns {
  id: string;
  label: string;
  runs: Measurement[];
  /** Runs that failed, with why. */
  errors: string[];
  /** Why the system did not run at all. */
  skipped?: string;
}

export interface ScenarioResults {
  id: string;
  title: string;
  description: string;
  metrics: MetricSpec[];
  systems: SystemRuns[];
}

export interface BenchResults {
  startedAt: string;
  durationSeconds: number;
  command: string;
  config: BenchConfig;
  machine: MachineInfo;
  scenarios: ScenarioResults[];
}

export const RESULTS_DIR = join(__dirname, '..', 'results');

/** Median and min–max of one metric of one system, or undefined when no run produced it. */
export function metricSpread(system: SystemRuns, key: string): Spread | undefined {
  return spread(system.runs.map((run) => run[key]).filter((value) => value !== undefined));
}

export function findSystem(results: BenchResults, scenarioId: string, systemId: string): SystemRuns | undefined {
  return results.scenarios.find((s) => s.id === scenarioId)?.systems.find((s) => s.id === systemId);
}

/** `bench/results/<date>.json` (`<date>-quick.json` for --quick, `<date>-partial.json` for filtered runs); returns the path. */
export function writeResultsFile(results: BenchResults): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const date = results.startedAt.slice(0, 10);
  const filtered = results.config.systems.length > 0 || results.config.scenarios.length > 0;
  const suffix = results.config.quick ? '-quick' : filtered ? '-partial' : '';
  const file = join(RESULTS_DIR, `${date}${suffix}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
