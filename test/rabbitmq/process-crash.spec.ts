import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isMalformed } from '../../libs/kanban/src/interfaces';
import { LONG_LEASE_MS, contractSettings, makeItem, pullExactly } from '../contract/contract-helpers';
import { rabbitmqBroker } from '../harness';
import { HOLDING_LINE_PREFIX } from './fixtures/hold-until-killed';
import { createRabbitMqHarness } from './rabbitmq-test-harness';

/** The child is killed regardless after this long, so a stuck child fails the test instead of hanging it. */
const CHILD_TIMEOUT_MS = 30_000;
/** Compiles the library's TypeScript in the child the way Jest does. */
const REGISTER_SWC = join(__dirname, '..', 'embedded', 'fixtures', 'register-swc.js');

describe('RabbitMQ consumer process killed with kill -9', () => {
  const harness = createRabbitMqHarness();
  afterEach(() => harness.cleanup());
  afterAll(() => harness.dispose());

  it('gets back the item it was processing as the next attempt, while the broker keeps the item waiting out a retry delay', async () => {
    // Arrange
    const settings = contractSettings();
    const transport = await harness.create(settings);
    const items = [makeItem({ payload: 'leased' }), makeItem({ payload: 'retrying' })];
    for (const item of items) await transport.publish(item);
    const child = spawn(
      process.execPath,
      ['--require', REGISTER_SWC, join(__dirname, 'fixtures', 'hold-until-killed.ts'), rabbitmqBroker().url, harness.prefixOf(transport), 'orders', JSON.stringify(settings)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = once(child, 'exit');
    const guard = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const held = new Promise<string[]>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith(HOLDING_LINE_PREFIX)) resolve(line.slice(HOLDING_LINE_PREFIX.length).split(' '));
      });
    });

    // Act
    const heldIds = await Promise.race([held, exited.then(() => [] as string[])]);
    child.kill('SIGKILL');
    const [, signal] = await exited;
    clearTimeout(guard);
    const deliveries = await pullExactly(transport, { domain: 'orders', priority: 'normal' }, 1);
    const delayed = await transport.delayed();
    const early = await transport.pull({ domain: 'orders', priority: 'normal' }, 1, { leaseMs: LONG_LEASE_MS, waitMs: 500 });

    // Assert
    expect({ signal, stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    expect(heldIds.sort()).toEqual(items.map((item) => item.id).sort());
    expect(deliveries.map((delivery) => delivery.id)).toEqual([items[0].id]);
    expect(deliveries.map((delivery) => (isMalformed(delivery) ? 0 : delivery.item.attempts))).toEqual([2]);
    expect(delayed).toBe(1);
    expect(early).toEqual([]);
  });
});
