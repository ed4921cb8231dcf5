import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BenchResults } from './report/bench-results';
import { writeResultsDoc } from './report/results-markdown';

/**
 * Regenerates the results section of docs/benchmarks.md and its charts from result files, without
 * measuring again. Several files merge: a later file's scenarios are added, or replace the same
 * scenario of an earlier one (e.g. a full run plus a `--scenario=…` rerun).
 *   node -r ./bench/register.js bench/write-doc.ts bench/results/<date>.json [more.json …]
 */
function main(): void {
  const files = process.argv.slice(2).map((file) => resolve(file));
  if (files.length === 0) throw new Error('usage: write-doc.ts <results.json> [more results.json …]');
  const [first, ...rest] = files.map((file) => JSON.parse(readFileSync(file, 'utf8')) as BenchResults);
  const merged: BenchResults = { ...first, scenarios: [...first.scenarios] };
  for (const results of rest) {
    // The doc quotes the command in backticks: this makes it read `first` then `second`.
    merged.command = `${merged.command}\` then \`${results.command}`;
    merged.durationSeconds += results.durationSeconds;
    for (const scenario of results.scenarios) {
      const at = merged.scenarios.findIndex((s) => s.id === scenario.id);
      if (at >= 0) merged.scenarios[at] = scenario;
      else merged.scenarios.push(scenario);
    }
  }
  writeResultsDoc(merged, files[0], files.slice(1));
  process.stdout.write(`docs/benchmarks.md regenerated from ${files.length} result file(s)\n`);
}

main();
