import { Inject, Injectable } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { KANBAN_OPTIONS, KANBAN_TRANSPORT, KanbanModule, KanbanQueue, transportSettingsFrom, type KanbanResolvedOptions, type PublishReceipt, type WorkItem } from '@tps/kanban';
import { EmbeddedTransport } from '../../libs/kanban/src/transports/embedded';

/** A team's own transport: here the embedded store with every publish counted. */
@Injectable()
class CountingTransport extends EmbeddedTransport {
  published = 0;

  constructor(@Inject(KANBAN_OPTIONS) options: KanbanResolvedOptions) {
    super(options.embedded, transportSettingsFrom(options));
  }

  override async publish(item: WorkItem): Promise<PublishReceipt> {
    const receipt = await super.publish(item);
    this.published++;
    return receipt;
  }
}

describe('a transport supplied by DI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kanban-custom-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the built-in choice and carries every queue operation', async () => {
    const module = await Test.createTestingModule({
      imports: [KanbanModule.forRoot({ embedded: { path: join(dir, 'k.db') }, transport: CountingTransport })],
    }).compile();
    await module.init();
    const queue = module.get(KanbanQueue);

    await queue.publish({ priority: 'low', domain: 'custom', payload: 1, deadlineMs: 10_000 });
    const [delivery] = await queue.pull({ domain: 'custom' });
    await queue.ack(delivery.id, delivery.domain, delivery.lease);

    const transport = module.get<CountingTransport>(KANBAN_TRANSPORT);
    expect(transport).toBeInstanceOf(CountingTransport);
    expect(transport.published).toBe(1);
    expect(await queue.depth()).toEqual([expect.objectContaining({ domain: 'custom', ready: 0, inFlight: 0 })]);
    await module.close();
  });
});
