import { metricSpread, type ScenarioResults } from './bench-results';
import { formatSpread } from './statistics';

/** One scenario as aligned text: a row per system, median (min–max) per metric. */
export function scenarioTable(scenario: ScenarioResults): string {
  const header = ['system', ...scenario.metrics.map((m) => `${m.label} (${m.unit})`)];
  const rows = scenario.systems.map((system) => {
    if (system.skipped) return [system.label, `skipped: ${system.skipped}`];
    if (system.runs.length === 0) return [system.label, `failed: ${system.errors[0] ?? 'no run'}`];
    const cells = scenario.metrics.map((metric) => formatSpread(metricSpread(system, metric.key)));
    const failures = system.errors.length ? [`${system.errors.length} run(s) failed`] : [];
    return [system.label, ...cells, ...failures];
  });
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [`${scenario.title}`, line(header), ...rows.map(line)].join('\n');
}
