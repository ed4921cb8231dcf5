import { itControllingBrokers, natsBroker, rabbitmqBroker } from '../harness';
import { drain } from './support/drain';
import { ACK_IN_FLIGHT_WINDOW_MS, duplicatesSettledBefore } from './support/duplicates';
import { startPublishingRun } from './support/publishing-run';
import { activeBrokerLines } from './support/switch-lines';
import { FAILBACK_BOUND_MS, SWITCH_OVER_BOUND_MS, timeUntilTakingPublishes } from './support/switch-times';

const PUBLISH_RATE_PER_SECOND = 400;
const MAX_PUBLISHES_IN_FLIGHT = 200;
/**
 * Launched publishes at which nats-server dies (2 s in), RabbitMQ dies (6 s in: its queues were
 * declared at start-up, well before, see the harness README on RabbitMQ 3.10 and fresh quorum
 * queues), and both come back, NATS first (8 s in).
 */
const KILL_NATS_AT = 800;
const KILL_RABBITMQ_AT = 2_400;
const RESTART_AT = 3_200;
const ITEMS = 4_000;

const chaos = itControllingBrokers('nats', 'rabbitmq');

describe('failover chaos 3: kill -9 of RabbitMQ while it is the active broker (NATS down)', () => {
  chaos(
    'switches to RabbitMQ, then the outbox, and back to NATS within bounds, forwards the outbox, and processes every acknowledged publish (none dead-lettered)',
    async () => {
      // Arrange
      const run = await startPublishingRun('outbox', { count: ITEMS, ratePerSecond: PUBLISH_RATE_PER_SECOND, maxInFlight: MAX_PUBLISHES_IN_FLIGHT });
      const { app, domain, ledger, publisher } = run;
      try {
        // Act
        const publishing = publisher.run();
        await run.launched(KILL_NATS_AT);
        const natsFault = await run.fault(() => natsBroker().kill9());
        const firstFaultAt = natsFault.at;
        await run.launched(KILL_RABBITMQ_AT);
        const rabbitmqFault = await run.fault(() => rabbitmqBroker().kill9());
        await run.launched(RESTART_AT);
        await natsBroker().restart();
        const failback = timeUntilTakingPublishes(app.failover, 'nats');
        await rabbitmqBroker().restart();
        await publishing;
        await drain(app.failover, app.queue, domain, ledger);

        // Assert
        const { unknownOutcomes, forwarded } = app.failover.stats;
        const summary = ledger.summary();
        const toRabbitmqMs = Math.round((publisher.firstFrom('rabbitmq', natsFault.at)?.resolvedAt ?? Number.NaN) - natsFault.at);
        const toOutboxMs = Math.round((publisher.firstFrom('outbox', rabbitmqFault.at)?.resolvedAt ?? Number.NaN) - rabbitmqFault.at);
        const failbackMs = await failback;
        // In flight at the two kills: deliveries each broker had out, acks that landed just before, and copies of publishes whose outcome was unknown.
        const inFlightAtFault = natsFault.inFlight + rabbitmqFault.inFlight + unknownOutcomes;
        console.log(
          ledger.line('failover chaos 3 (kill -9 RabbitMQ while active, NATS down)', {
            inFlightAtFault,
            items: ITEMS,
            inFlightPerKill: `${natsFault.delivered}+${natsFault.ackedJustBefore},${rabbitmqFault.delivered}+${rabbitmqFault.ackedJustBefore}`,
            toRabbitmqMs,
            toOutboxMs,
            failbackMs,
            forwarded,
            unknownOutcomes,
            repeatedAttempts: ledger.repeatedAttempts(),
            duplicateSources: JSON.stringify(ledger.duplicatesByBroker()),
          }),
        );
        expect(summary).toMatchObject({ attempted: ITEMS, acknowledged: ITEMS, processed: ITEMS, acknowledgedDeadLettered: 0, rejected: 0, lost: 0, unexpected: 0 });
        expect(summary.byBroker.rabbitmq).toBeGreaterThan(0);
        expect(summary.byBroker.outbox).toBeGreaterThan(0);
        expect(toRabbitmqMs).toBeLessThanOrEqual(SWITCH_OVER_BOUND_MS);
        expect(toOutboxMs).toBeLessThanOrEqual(SWITCH_OVER_BOUND_MS);
        expect(failbackMs).toBeLessThanOrEqual(FAILBACK_BOUND_MS);
        expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault);
        expect(forwarded).toBeGreaterThanOrEqual(summary.byBroker.outbox);
        // Duplicates are deliveries a broker had out (or acks it had not applied) when it died, and copies of publishes with an unknown outcome.
        expect(duplicatesSettledBefore(ledger, firstFaultAt - ACK_IN_FLIGHT_WINDOW_MS)).toEqual([]);
        expect(activeBrokerLines(app.logs)).toEqual(['nats', 'rabbitmq', 'outbox', 'nats']);
      } finally {
        if (!(await natsBroker().isRunning())) await natsBroker().restart();
        if (!(await rabbitmqBroker().isRunning())) await rabbitmqBroker().restart();
        await run.close();
      }
    },
    240_000,
  );
});
