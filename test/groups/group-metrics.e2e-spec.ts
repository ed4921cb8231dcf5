import { KANBAN_METRICS_REGISTRY } from '@tps/kanban';
import type { Registry } from 'prom-client';
import { itIfAvailable } from '../harness/needs-tool';
import { createKanbanTestApp, inFuture, type KanbanTestApp } from '../library/support/kanban-test-app';
import { PROMTOOL_MISSING, findPromtool, runPromtool } from '../library/support/promtool';

const DOMAIN = 'tenants';
const promtool = findPromtool();
const itWithPromtool = itIfAvailable(promtool !== undefined, PROMTOOL_MISSING, it);

/** Publishes two items of merchant-a, one of merchant-b and one without a group; pulls them all; acks every one but merchant-b's, which is nacked. */
async function handOutAndSettle(app: KanbanTestApp, domain: string): Promise<void> {
  for (const group of ['merchant-a', 'merchant-a', 'merchant-b', undefined]) {
    await app.queue.publish({ priority: 'normal', domain, payload: {}, deadline: inFuture(), ...(group ? { group } : {}) });
  }
  const deliveries = await app.queue.pull({ domain, max: 10, waitMs: 2_000 });
  if (deliveries.length !== 4) throw new Error(`expected 4 deliveries, got ${deliveries.length}`);
  for (const delivery of deliveries) {
    if (delivery.item.group === 'merchant-b') await app.queue.nack(delivery.id, delivery.domain, delivery.lease, 'refused');
    else await app.queue.ack(delivery.id, delivery.domain, delivery.lease);
  }
}

async function exposition(app: KanbanTestApp): Promise<string> {
  return app.module.get<Registry>(KANBAN_METRICS_REGISTRY).metrics();
}

describe('per-group metrics, only with groups.metrics', () => {
  let withMetrics: KanbanTestApp;
  let withoutMetrics: KanbanTestApp;

  beforeAll(async () => {
    withMetrics = await createKanbanTestApp({ options: { startWorkers: false, groups: { metrics: true } } });
    withoutMetrics = await createKanbanTestApp({ options: { startWorkers: false } });
  });

  afterAll(async () => {
    await withMetrics?.close();
    await withoutMetrics?.close();
  });

  it('counts hand-outs and completions per domain and group, by outcome', async () => {
    // Act
    await handOutAndSettle(withMetrics, DOMAIN);
    const text = await exposition(withMetrics);

    // Assert
    expect(text).toContain(`kanban_group_handed_out_total{domain="${DOMAIN}",group="merchant-a"} 2\n`);
    expect(text).toContain(`kanban_group_handed_out_total{domain="${DOMAIN}",group="merchant-b"} 1\n`);
    expect(text).toContain(`kanban_group_handed_out_total{domain="${DOMAIN}",group=""} 1\n`);
    expect(text).toContain(`kanban_group_completed_total{domain="${DOMAIN}",group="merchant-a",outcome="ack"} 2\n`);
    expect(text).toContain(`kanban_group_completed_total{domain="${DOMAIN}",group="merchant-b",outcome="dead_letter"} 1\n`);
    expect(text).toContain(`kanban_group_completed_total{domain="${DOMAIN}",group="",outcome="ack"} 1\n`);
  });

  it('exposes nothing per group without groups.metrics', async () => {
    // Act
    await handOutAndSettle(withoutMetrics, DOMAIN);
    const text = await exposition(withoutMetrics);

    // Assert
    expect(text).toContain('kanban_acked_total');
    expect(text).not.toContain('kanban_group_');
    expect(text).not.toContain('merchant-a');
  });

  itWithPromtool('lints as clean as without groups: no finding', async () => {
    // Arrange
    await handOutAndSettle(withMetrics, 'linted');
    const text = await exposition(withMetrics);

    // Act
    const lint = runPromtool(promtool as string, ['check', 'metrics'], { input: text });

    // Assert
    expect(text).toContain('kanban_group_completed_total{domain="linted",group="merchant-b",outcome="dead_letter"} 1\n');
    expect(lint).toEqual({ status: 0, output: '' });
  });
});
