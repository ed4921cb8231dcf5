import { describeIfAvailable } from '../harness/needs-tool';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { KanbanMetrics } from '@tps/kanban';
import { PROMTOOL_MISSING, findPromtool, runPromtool } from './support/promtool';

const DOCS = join(__dirname, '..', '..', 'docs');
const readDoc = (name: string): string => readFileSync(join(DOCS, name), 'utf8');
/** A metric name of kanban's in a query, wherever it stands (selector, function argument, label_values). */
const KANBAN_NAME = /\bkanban_[a-z0-9_]+/g;

/** Every sample name kanban's registry exposes: histograms add their _bucket, _sum and _count series. */
async function emittedNames(): Promise<Set<string>> {
  const registry = new Registry();
  new KanbanMetrics(registry);
  const metrics = await registry.getMetricsAsJSON();
  return new Set(metrics.flatMap(({ name, type }) => (String(type) === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name])));
}

function collectExprs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((child) => collectExprs(child, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'expr' && typeof value === 'string') found.push(value);
      else collectExprs(value, found);
    }
  }
  return found;
}

describe('monitoring docs reference only metrics kanban emits', () => {
  let emitted: Set<string>;

  beforeAll(async () => {
    emitted = await emittedNames();
  });

  it.each(['prometheus-alerts.yml', 'prometheus-alerts.test.yml', 'keda-scaledobject.yaml', 'hpa-queue-depth.yaml'])('%s names only emitted metrics', (doc) => {
    // Arrange
    const text = readDoc(doc);

    // Act
    const referenced = [...new Set(text.match(KANBAN_NAME) ?? [])];

    // Assert
    expect(referenced.length).toBeGreaterThan(0);
    expect(referenced.filter((name) => !emitted.has(name))).toEqual([]);
  });

  it('the Grafana dashboard parses and every panel query names only emitted metrics', () => {
    // Arrange
    const dashboard = JSON.parse(readDoc('grafana-dashboard.json')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };

    // Act
    const exprs = collectExprs(dashboard);
    const referenced = [...new Set(exprs.flatMap((expr) => expr.match(KANBAN_NAME) ?? []))];

    // Assert
    expect(dashboard.panels.filter((panel) => panel.targets.length === 0).map((panel) => panel.title)).toEqual([]);
    expect(exprs.filter((expr) => (expr.match(KANBAN_NAME) ?? []).length === 0)).toEqual([]);
    expect(referenced.filter((name) => !emitted.has(name))).toEqual([]);
    for (const name of [
      'kanban_retries_total',
      'kanban_lease_expiries_total',
      'kanban_failovers_total',
      'kanban_outbox_items',
      'kanban_handler_duration_seconds_bucket',
      'kanban_latency_seconds_bucket',
    ]) {
      expect(referenced).toContain(name);
    }
  });
});

const promtool = findPromtool();
const describeWithPromtool = describeIfAvailable(promtool !== undefined, PROMTOOL_MISSING);

describeWithPromtool(`monitoring docs pass promtool${promtool ? '' : ` (${PROMTOOL_MISSING})`}`, () => {
  let scratch: string;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'kanban-promtool-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('promtool check rules accepts the alert rules', () => {
    // Act
    const check = runPromtool(promtool as string, ['check', 'rules', 'prometheus-alerts.yml'], { cwd: DOCS });

    // Assert
    expect(check).toEqual({ status: 0, output: expect.stringContaining('SUCCESS: 7 rules found') });
  });

  it('promtool test rules proves backlog, dead letters, breaker, failover, outbox, no-worker and latency alerts fire', () => {
    // Arrange
    const tested = [...readDoc('prometheus-alerts.test.yml').matchAll(/alertname: (\w+)/g)].map((match) => match[1]);

    // Act
    const run = runPromtool(promtool as string, ['test', 'rules', 'prometheus-alerts.test.yml'], { cwd: DOCS });

    // Assert
    expect(run).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    expect(new Set(tested)).toEqual(
      new Set(['KanbanQueueBacklogGrowing', 'KanbanDeadLettersRising', 'KanbanCircuitBreakerOpen', 'KanbanFailoverActive', 'KanbanOutboxNotEmpty', 'KanbanNoWorkers', 'KanbanLatencyHigh']),
    );
  });

  it("every Grafana panel query is valid PromQL once the dashboard's variables are filled in", () => {
    // Arrange: each query becomes a recording rule, which promtool parses.
    const exprs = collectExprs(JSON.parse(readDoc('grafana-dashboard.json')));
    const rules = exprs.map((expr, index) => `      - record: kanban_dashboard_query_${index}\n        expr: ${JSON.stringify(expr.replaceAll('$__rate_interval', '5m').replaceAll('$domain', '.*'))}`);
    const file = join(scratch, 'dashboard-queries.yml');
    writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);

    // Act
    const check = runPromtool(promtool as string, ['check', 'rules', file]);

    // Assert
    expect(check).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${exprs.length} rules found`) });
  });
});
