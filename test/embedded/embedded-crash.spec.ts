import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EmbeddedTransport } from '../../libs/kanban/src/transports/embedded';
import { contractSettings } from '../contract/contract-helpers';
import { createEmbeddedHarness } from './embedded-harness';
import { PUBLISHED_LINE_PREFIX } from './fixtures/publish-until-killed';

const harness = createEmbeddedHarness();
/** Publishes acknowledged before the kill: enough that the kill lands while group commits are in full swing. */
const ACKNOWLEDGED_BEFORE_KILL = 2_000;
/** The child is killed regardless after this long, so a stuck publisher fails the test instead of hanging it. */
const CHILD_TIMEOUT_MS = 30_000;

describe('embedded store after kill -9', () => {
  afterEach(() => harness.cleanup());

  it('holds every publish that resolved before the process was killed', async () => {
    const path = join(harness.tempDir(), 'nested', 'kanban.db');
    const child = spawn(process.execPath, ['--require', join(__dirname, 'fixtures/register-swc.js'), join(__dirname, 'fixtures/publish-until-killed.ts'), path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit');
    const guard = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    const acknowledged: string[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith(PUBLISHED_LINE_PREFIX)) return;
      acknowledged.push(line.slice(PUBLISHED_LINE_PREFIX.length));
      if (acknowledged.length === ACKNOWLEDGED_BEFORE_KILL) child.kill('SIGKILL');
    });

    const [, signal] = await exited;
    clearTimeout(guard);
    const transport = new EmbeddedTransport({ path }, contractSettings());
    await transport.connect();
    const stored = new Set<string>();
    for (let batch = await transport.pull({ domain: 'crash' }, 1_000, { leaseMs: 60_000, waitMs: 0 }); batch.length > 0;) {
      for (const delivery of batch) stored.add(delivery.id);
      batch = await transport.pull({ domain: 'crash' }, 1_000, { leaseMs: 60_000, waitMs: 0 });
    }
    await transport.close();

    expect({ signal, stderr }).toEqual({ signal: 'SIGKILL', stderr: '' });
    expect(acknowledged.length).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  });
});
