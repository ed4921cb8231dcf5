import { BrokerHandle } from './broker-handle';
import { BROKER_URL_ENV } from './global-setup';
import type { BrokerKind } from './broker-state';

/**
 * `it` for a test that kills, freezes or restarts brokers. Only brokers the harness started
 * (locally or with Docker) can be; with one given by URL the test fails saying so, rather than
 * being skipped where nobody sees the chaos coverage go missing.
 */
export function itControllingBrokers(...kinds: BrokerKind[]): (name: string, test: () => Promise<void>, timeoutMs?: number) => void {
  return (name, test, timeoutMs) =>
    it(
      name,
      async () => {
        const given = kinds.filter((kind) => !new BrokerHandle(kind).controllable);
        if (given.length > 0) {
          throw new Error(
            `this chaos test kills or freezes ${given.join(' and ')}, which the harness did not start: unset ${given.map((kind) => BROKER_URL_ENV[kind]).join(' and ')} to run it on brokers the harness starts`,
          );
        }
        await test();
      },
      timeoutMs,
    );
}
