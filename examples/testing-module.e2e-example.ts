import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Test, type TestingModule } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KanbanHandler, KanbanModule, KanbanQueue } from '@tps/kanban';

@Injectable()
class InvoiceConsumer {
  readonly sent: string[] = [];

  @KanbanHandler({ priority: 'normal', domain: 'invoices' })
  async send(@Payload() invoice: { number: string }) {
    this.sent.push(invoice.number);
  }
}

describe('invoices', () => {
  const dir = mkdtempSync(join(tmpdir(), 'invoices-'));
  let moduleRef: TestingModule;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      // A store file of its own per test; each app gets its own metrics registry, so nothing collides.
      imports: [KanbanModule.forRoot({ embedded: { path: join(dir, `${expect.getState().currentTestName}.db`) } })],
      providers: [InvoiceConsumer],
    }).compile();
    await moduleRef.init(); // starts the transport and the workers
  });

  afterEach(() => moduleRef.close()); // drains the workers and closes the store
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sends a published invoice', async () => {
    await moduleRef.get(KanbanQueue).publish({ priority: 'normal', domain: 'invoices', payload: { number: 'INV-1' }, deadlineMs: 30_000 });

    const consumer = moduleRef.get(InvoiceConsumer);
    await waitUntil(() => consumer.sent.length > 0);
    expect(consumer.sent).toEqual(['INV-1']);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
