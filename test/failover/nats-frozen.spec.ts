import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FAILOVER_DEFAULT_PUBLISH_TIMEOUT_MS } from '../../libs/kanban/src/transports/failover';
import { RABBITMQ_DEFAULT_PUBLISH_TIMEOUT_MS } from '../../libs/kanban/src/transports/rabbitmq/rabbitmq.constants';
import { natsBroker, rabbitmqBroker, testNamespace, waitFor } from '../harness';
import { KanbanEvents } from '../../libs/kanban/src';
import { AckWindow } from '../chaos/support/ack-window';
import { faultWithSnapshot } from '../chaos/support/nats-app';
import { Ledger } from '../ledger/ledger';
import { createChaosApp } from './support/chaos-app';
import { drain } from './support/drain';
import { ACK_IN_FLIGHT_WINDOW_MS, duplicatesReceivedBy, duplicatesSettledBefore } from './support/duplicates';
import { purgeNamespace } from './support/purge-namespace';
import { SteadyPublisher } from './support/steady-publisher';
import { activeBrokerLines } from './support/switch-lines';

const PUBLISH_RATE_PER_SECOND = 200;
const MAX_PUBLISHES_IN_FLIGHT = 400;
/** nats-server is frozen once this many publishes were launched (5 s in). */
const STOP_AT = 1_000;
/** The fault the scenario is about: nats-server frozen this long under load. */
const FROZEN_MS = 30_000;
/** Publishing goes on for 5 s after SIGCONT. */
const ITEMS = STOP_AT + ((FROZEN_MS + 5_000) * PUBLISH_RATE_PER_SECOND) / 1_000;
const PHASE_TIMEOUT_MS = 30_000;
/**
 * The longest a publish can take by construction: the primary's bound, then the fallback's own
 * confirm timeout (past it the outbox takes the item).
 */
const PUBLISH_BOUND_MS = FAILOVER_DEFAULT_PUBLISH_TIMEOUT_MS + RABBITMQ_DEFAULT_PUBLISH_TIMEOUT_MS;

const chaos = natsBroker().controllable && rabbitmqBroker().controllable ? it : it.skip;

describe('failover chaos 2: nats-server frozen (SIGSTOP) for 30 s under load', () => {
  chaos(
    'fails publishes over within the bound, loses nothing and leaves nothing stuck after SIGCONT',
    async () => {
      // Arrange
      const namespace = testNamespace();
      const domain = namespace.domain('frozen');
      const ledger = new Ledger();
      const app = await createChaosApp(namespace, domain, (key, attempt) => ledger.process(key, attempt));
      const acks = new AckWindow(app.module.get(KanbanEvents), domain);
      try {
        const publisher = new SteadyPublisher(ledger, (key) => app.queue.publish({ priority: 'normal', domain, payload: { key }, deadlineMs: 600_000 }), {
          count: ITEMS,
          ratePerSecond: PUBLISH_RATE_PER_SECOND,
          maxInFlight: MAX_PUBLISHES_IN_FLIGHT,
          keyPrefix: 'frozen',
        });

        // Act
        const publishing = publisher.run();
        await waitFor(() => publisher.launched >= STOP_AT, { timeoutMs: PHASE_TIMEOUT_MS, description: `${STOP_AT} publishes launched` });
        const fault = await faultWithSnapshot({ queue: app.queue, acks }, domain, () => natsBroker().sigstop());
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
        expect(summary).toMatchObject({ attempted: ITEMS, acknowledged: ITEMS, rejected: 0, lost: 0, unexpected: 0 });
        expect(summary.duplicates).toBeLessThanOrEqual(inFlightAtFault);
        expect(slowestMs).toBeLessThanOrEqual(PUBLISH_BOUND_MS);
        expect(switchOverMs).toBeLessThanOrEqual(PUBLISH_BOUND_MS);
        // Duplicates are the deliveries NATS had out when it froze, and copies of publishes whose outcome was unknown when they were sent on to RabbitMQ.
        expect(duplicatesSettledBefore(ledger, stoppedAt - ACK_IN_FLIGHT_WINDOW_MS)).toEqual([]);
        expect(duplicatesReceivedBy(ledger, 'rabbitmq').length).toBeLessThanOrEqual(unknownOutcomes);
        expect(activeBrokerLines(app.logs)).toEqual(['nats', 'rabbitmq', 'nats']);
      } finally {
        acks.close();
        await natsBroker().sigcont();
        await app.close();
        await purgeNamespace(namespace, [domain]);
      }
    },
    240_000,
  );
});
