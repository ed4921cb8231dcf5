import { performance } from 'node:perf_hooks';
import { BrokerUnavailableError } from '../../libs/kanban/src/errors';
import { contractSettings, makeItem } from '../contract/contract-helpers';
import { natsBroker, testNamespace, waitFor } from '../harness';
import { createNatsHarness } from './nats-harness';

const harness = createNatsHarness();
const PUBLISH_TIMEOUT_MS = 1_000;
/** Time beyond the publish timeout a refusal may take (timer and event-loop slack). */
const REFUSAL_SLACK_MS = 1_000;
const chaos = natsBroker().controllable ? it : it.skip;

describe('NATS: nats-server frozen (SIGSTOP)', () => {
  afterEach(async () => {
    await natsBroker().sigcont();
    await harness.cleanup();
  });

  chaos('refuses publishes within the publish timeout while frozen and takes them again after SIGCONT', async () => {
    // Arrange
    const transport = await harness.create(contractSettings(), { publishTimeoutMs: PUBLISH_TIMEOUT_MS });
    const domain = testNamespace().domain('frozen');
    await transport.ensureQueue('normal', domain);
    await natsBroker().sigstop();
    const started = performance.now();

    // Act
    const refused = await transport.publish(makeItem({ domain })).then(
      () => undefined,
      (error: unknown) => error,
    );
    const refusedAfterMs = performance.now() - started;
    await natsBroker().sigcont();
    const receipt = await waitFor(() => transport.publish(makeItem({ domain })), { timeoutMs: 20_000, intervalMs: 100, description: 'a publish accepted after SIGCONT' });

    // Assert
    expect(refused).toBeInstanceOf(BrokerUnavailableError);
    expect(refusedAfterMs).toBeLessThan(PUBLISH_TIMEOUT_MS + REFUSAL_SLACK_MS);
    expect(receipt).toMatchObject({ broker: 'nats', duplicate: false });
  });
});
