import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FAILOVER_DEFAULT_PUBLISH_TIMEOUT_MS } from '../../libs/kanban/src/transports/failover';
import { RABBITMQ_DEFAULT_PUBLISH_TIMEOUT_MS } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq.constants';
import { itControllingBrokers, natsBroker } from '../harness';
import { FROZEN_MS, itemsThroughFreeze } from '../chaos/support/frozen-load';
import { drain } from './support/drain';
import { ACK_IN_FLIGHT_WINDOW_MS, duplicatesReceivedBy, duplicatesSettledBefore } from './support/duplicates';
import { startPublishingRun } from './support/publishing-run';
import { activeBrokerLines } from './support/switch-lines';

const PUBLISH_RATE_PER_SECOND = 200;
const MAX_PUBLISHES_IN_FLIGHT = 400;
/** nats-server is frozen once this many publishes were launched (5 s in). */
const STOP_AT = 1_000;
const ITEMS = itemsThroughFreeze(STOP_AT, PUBLISH_RATE_PER_SECOND);
/**
 * The longest a publish can take by construction: the primary's bound, then the fallback's own
 * confirm timeout (past it the outbox takes the item).
 */
const PUBLISH_BOUND_MS = FAILOVER_DEFAULT_PUBLISH_TIMEOUT_MS + RABBITMQ_DEFAULT_PUBLISH_TIMEOUT_MS;

const chaos = itControllingBrokers('nats', 'rabbitmq');

describe('failover chaos 2: nats-server frozen (SIGSTOP) for 30 s under load', () => {
  chaos(
    'fails publishes over within the bound, loses nothing and leaves nothing stuck after SIGCONT',
    async () => {
      // Arrange
      const run = await startPublishingRun('frozen', { count: ITEMS, ratePerSecond: PUBLISH_RATE_PER_SECOND, maxInFlight: MAX_PUBLISHES_IN_FLIGHT });
      const { app, domain, ledger, publisher } = run;
      try {
        // Act
        const publishing = publisher.run();
        await run.launched(STOP_AT);
        const fault = await run.fault(() => natsBroker().sigstop());
        const stoppedAt = fault.at;
        await sleep(FROZEN_MS);
        await natsBroker().sigcont();
        const resumedAt = performance.now();
        await publishing;
        await drain(app.failover, app.queue, domain, ledger);

        // Assert
        const duringFreeze = publisher.receipts.filter((receipt) => receipt.resolvedAt >= stoppedAt && receipt.startedAt <= resumedAt);
        const slowestMs = Math.round(Math.max(...duringFreeze.map((receipt) => receipt.resolvedAt - receipt.startedAt)));
        const switchOverMs = Math.round((publisher.firstFrom('rabbitmq', stoppedAt)?.resolvedAt ?? Number.NaN) - stoppedAt);
        const failbackMs = Math.round((publisher.firstFrom('nats', resumedAt)?.resolvedAt ?? Number.NaN) - resumedAt);
        const { unknownOutcomes } = app.failover.stats;
        // In flight at SIGSTOP: deliveries NATS had out, acks that landed just before it, and copies of publishes whose outcome was unknown.
        const inFlightAtFault = fault.inFlight + unknownOutcomes;
        console.log(
          ledger.line('failover chaos 2 (SIGSTOP nats-server 30 s)', {
            inFlightAtFault,
            items: ITEMS,
            deliveredAtFault: fault.delivered,
            ackedJustBefore: fault.ackedJustBefore,
            switchOverMs,
            slowestPublishMs: slowestMs,
            failbackMs,
            unknownOutcomes,
            repeatedAttempts: ledger.repeatedAttempts(),
            duplicateSources: JSON.stringify(ledger.duplicatesByBroker()),
          }),
        );
        const summary = ledger.summary();
        expect(summary).toMatchObject({ attempted: ITEMS, acknowledged: ITEMS, processed: ITEMS, acknowledgedDeadLettered: 0, rejected: 0, lost: 0, unexpected: 0 });
        expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault);
        expect(slowestMs).toBeLessThanOrEqual(PUBLISH_BOUND_MS);
        expect(switchOverMs).toBeLessThanOrEqual(PUBLISH_BOUND_MS);
        // Duplicates are the deliveries NATS had out when it froze, and copies of publishes whose outcome was unknown when they were sent on to RabbitMQ.
        expect(duplicatesSettledBefore(ledger, stoppedAt - ACK_IN_FLIGHT_WINDOW_MS)).toEqual([]);
        expect(duplicatesReceivedBy(ledger, 'rabbitmq').length).toBeLessThanOrEqual(unknownOutcomes);
        expect(activeBrokerLines(app.logs)).toEqual(['nats', 'rabbitmq', 'nats']);
      } finally {
        await natsBroker().sigcont();
        await run.close();
      }
    },
    240_000,
  );
});
