import { itControllingBrokers, natsBroker } from '../harness';
import { drain } from './support/drain';
import { ACK_IN_FLIGHT_WINDOW_MS, duplicatesReceivedBy, duplicatesSettledBefore } from './support/duplicates';
import { startPublishingRun } from './support/publishing-run';
import { activeBrokerLines } from './support/switch-lines';
import { FAILBACK_BOUND_MS, SWITCH_OVER_BOUND_MS, timeUntilTakingPublishes } from './support/switch-times';

const ITEMS = 10_000;
const PUBLISH_RATE_PER_SECOND = 1_000;
const MAX_PUBLISHES_IN_FLIGHT = 200;
/** nats-server dies once this many publishes were launched, and comes back after RESTART_AT. */
const KILL_AT = 3_000;
const RESTART_AT = 6_000;

const chaos = itControllingBrokers('nats', 'rabbitmq');

describe('failover chaos 1: kill -9 of nats-server while publishing', () => {
  chaos(
    'processes every acknowledged publish (none dead-lettered), switches to RabbitMQ and back within bounds with one log line each, and counts duplicates',
    async () => {
      // Arrange
      const run = await startPublishingRun('kill', { count: ITEMS, ratePerSecond: PUBLISH_RATE_PER_SECOND, maxInFlight: MAX_PUBLISHES_IN_FLIGHT });
      const { app, domain, ledger, publisher } = run;
      try {
        // Act
        const publishing = publisher.run();
        await run.launched(KILL_AT);
        const fault = await run.fault(() => natsBroker().kill9());
        const killedAt = fault.at;
        await run.launched(RESTART_AT);
        await natsBroker().restart();
        const failback = timeUntilTakingPublishes(app.failover, 'nats');
        await publishing;
        await drain(app.failover, app.queue, domain, ledger);

        // Assert
        const switchOverMs = Math.round((publisher.firstFrom('rabbitmq', killedAt)?.resolvedAt ?? Number.NaN) - killedAt);
        const failbackMs = await failback;
        const { unknownOutcomes } = app.failover.stats;
        const duplicateSources = JSON.stringify(ledger.duplicatesByBroker());
        // In flight at the kill: deliveries NATS had out, acks that landed just before it, and copies of publishes whose outcome was unknown.
        const inFlightAtFault = fault.inFlight + unknownOutcomes;
        console.log(
          ledger.line('failover chaos 1 (kill -9 nats-server)', {
            inFlightAtFault,
            items: ITEMS,
            deliveredAtFault: fault.delivered,
            ackedJustBefore: fault.ackedJustBefore,
            switchOverMs,
            failbackMs,
            unknownOutcomes,
            repeatedAttempts: ledger.repeatedAttempts(),
            duplicateSources,
          }),
        );
        const summary = ledger.summary();
        expect(summary).toMatchObject({ attempted: ITEMS, acknowledged: ITEMS, processed: ITEMS, acknowledgedDeadLettered: 0, rejected: 0, lost: 0, unexpected: 0 });
        expect(summary.byBroker.rabbitmq).toBeGreaterThan(0);
        expect(switchOverMs).toBeLessThanOrEqual(SWITCH_OVER_BOUND_MS);
        expect(failbackMs).toBeLessThanOrEqual(FAILBACK_BOUND_MS);
        expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault);
        // Duplicates are the deliveries NATS had out (or acks it had not applied) when it died, and
        // copies of publishes whose outcome was unknown when they were sent on to RabbitMQ.
        expect(duplicatesSettledBefore(ledger, killedAt - ACK_IN_FLIGHT_WINDOW_MS)).toEqual([]);
        expect(duplicatesReceivedBy(ledger, 'rabbitmq').length).toBeLessThanOrEqual(unknownOutcomes);
        expect(activeBrokerLines(app.logs)).toEqual(['nats', 'rabbitmq', 'nats']);
      } finally {
        if (!(await natsBroker().isRunning())) await natsBroker().restart();
        await run.close();
      }
    },
    180_000,
  );
});
