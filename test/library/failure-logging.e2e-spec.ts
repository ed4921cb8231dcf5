import { Injectable } from '@nestjs/common';
import { KanbanHandler } from '@tps/kanban';
import { waitFor } from '../harness';
import { createKanbanTestApp, inFuture, type KanbanTestApp } from './support/kanban-test-app';

const FAILURE = 'card declined by the issuer';

@Injectable()
class DecliningHandler {
  @KanbanHandler({ domain: 'payments', priority: 'high' })
  charge(): void {
    throw new Error(FAILURE);
  }
}

describe('a failing item is logged once', () => {
  let app: KanbanTestApp;

  beforeEach(async () => {
    app = await createKanbanTestApp({ providers: [DecliningHandler], options: { maxAttempts: 1 } });
  });
  afterEach(() => app.close());

  it('writes exactly one log line for a handler failure, naming the item, without a stack trace', async () => {
    // Arrange
    const { id } = await app.queue.publish({ priority: 'high', domain: 'payments', payload: { amount: 10 }, deadline: inFuture() });

    // Act
    await waitFor(async () => (await app.queue.listDeadLetters({ domain: 'payments' })).items.length > 0 || undefined, { timeoutMs: 10_000, description: 'the item dead-lettered' });

    // Assert
    const failureLines = app.logs.filter((line) => line.includes(FAILURE));
    expect(failureLines).toEqual([expect.stringContaining(id)]);
    expect(app.logs.filter((line) => /\n\s+at /.test(line))).toEqual([]);
  });
});
