import { Injectable } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import fc from 'fast-check';
import { KanbanHandler, PRIORITIES } from '@tps/kanban';
import { waitFor } from '../../harness';
import { publishForeignBytes } from '../../library/support/foreign-bytes';
import { createKanbanTestApp, inFuture, namespace, type KanbanTestApp } from '../../library/support/kanban-test-app';
import { malformedBytes } from './arbitraries';

const DOMAIN = namespace.domain('garbage');
/** Property runs; each sends up to MAX_BLOBS foreign messages and one good item, so a file stays well under 30 s. */
const RUNS = 8;
const MAX_BLOBS = 6;
const SETTLE_TIMEOUT_MS = 15_000;

const handled: number[] = [];

@Injectable()
class GarbageConsumer {
  @KanbanHandler({ domain: DOMAIN })
  handle(@Payload() payload: { run: number }): void {
    handled.push(payload.run);
  }
}

/**
 * Random bytes written on `kanban.{priority}.{domain}` by a foreign publisher, with a good item
 * after them: each run ends with every foreign message dead-lettered as `malformed` (its bytes
 * kept), the good item handled, and the domain's worker still running without a failure.
 */
export function describeMalformedBytes(transport: 'nats' | 'rabbitmq'): void {
  describe(`random bytes on kanban subjects (${transport}), property-based`, () => {
    let app: KanbanTestApp;

    beforeAll(async () => {
      app = await createKanbanTestApp({
        transport,
        providers: [GarbageConsumer],
        options: { maxWorkers: 1, autoscale: false, coordinatorCheckIntervalMs: 60_000, maxAttempts: 3, retryBackoffMs: [50] },
      });
    });

    afterAll(() => app?.close());

    it('dead-letters every foreign message as malformed and never stops the worker', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...PRIORITIES), malformedBytes), { minLength: 1, maxLength: MAX_BLOBS }), async (blobs) => {
          // Arrange
          run++;
          for (const [priority, bytes] of blobs) await publishForeignBytes(app, priority, DOMAIN, bytes);
          await app.queue.publish({ priority: 'normal', domain: DOMAIN, payload: { run }, deadline: inFuture() });

          // Act
          const letters = await waitFor(
            async () => {
              const found = (await app.queue.listDeadLetters({ domain: DOMAIN, reason: 'malformed', limit: 1000 })).items;
              return handled.includes(run) && found.length >= blobs.length ? found : undefined;
            },
            { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 50, description: `run ${run}: the good item handled and ${blobs.length} malformed dead letter(s)` },
          );

          // Assert
          expect(letters.map((letter) => letter.raw).sort()).toEqual(blobs.map(([, bytes]) => bytes.toString('base64')).sort());
          expect(letters.every((letter) => letter.item === undefined && letter.domain === DOMAIN)).toBe(true);
          expect(letters.map((letter) => letter.priority).sort()).toEqual(blobs.map(([priority]) => priority).sort());
          expect(app.pool.status()).toEqual([expect.objectContaining({ state: 'running', failed: 0, consecutiveFailures: 0 })]);
          for (const letter of letters) await app.queue.purgeDeadLetter(letter.id);
        }),
        // A failing run leaves items on the broker, so shrinking would start from another state: report the first failure as it is.
        { numRuns: RUNS, endOnFailure: true },
      );

      expect(handled).toEqual(Array.from({ length: RUNS }, (_, n) => n + 1));
      const drained = await waitFor(async () => (await app.queue.depth()).filter((queue) => queue.domain === DOMAIN).every((queue) => queue.ready === 0 && queue.inFlight === 0), {
        timeoutMs: SETTLE_TIMEOUT_MS,
        description: `every ${DOMAIN} queue empty`,
      });
      expect(drained).toBe(true);
    });
  });
}
