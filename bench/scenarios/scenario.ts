import type { BenchBrokers } from '../brokers/bench-brokers';
import type { BenchConfig } from '../bench-config';
import type { QueueSystem } from '../systems/queue-system';

/** One number a scenario measures, with how to read it. */
export interface MetricSpec {
  key: string;
  label: string;
  unit: string;
  higherIsBetter: boolean;
}

/** One measured run of one system: metric key to value. */
export type Measurement = Record<string, number>;

export interface ScenarioContext {
  brokers: BenchBrokers;
  config: BenchConfig;
  tempDir: string;
  /** A fresh tag for queue, stream and file names, so no run sees another's items. */
  nextTag(): string;
  log(line: string): void;
}

export interface Scenario {
  id: string;
  title: string;
  /** What one run does, in a sentence, with its sizes: printed and written to the doc. */
  describe(config: BenchConfig): string;
  systems: QueueSystem[];
  metrics: MetricSpec[];
  /** Runs per system; the config's run count unless the scenario is costly. */
  runs?(config: BenchConfig): number;
  /** Time one run may take before it fails; twice the config's run timeout unless the scenario starts processes of its own. */
  timeoutMs?(config: BenchConfig): number;
  measure(system: QueueSystem, context: ScenarioContext): Promise<Measurement>;
}
