import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchBrokers } from '../brokers/bench-brokers';
import { publishAtRate } from '../scenarios/load';
import { kanbanNats } from '../systems/kanban-nats';

/**
 * kanban on NATS at a fixed rate, with the heap read after a full GC every 10 s: a leak shows as a
 * heap that keeps growing once the lease window (35 s by default) is full.
 *   node --expose-gc -r ./bench/register.js bench/profile/heap-under-load.ts [itemsPerSecond=5000] [seconds=150]
 */
async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const [rate = 5_000, seconds = 150] = process.argv.slice(2).map(Number);
  const brokers = await startBenchBrokers();
  const tempDir = mkdtempSync(join(tmpdir(), 'kanban-heap-'));
  try {
    const open = await kanbanNats().open({ brokers, tempDir, tag: 'heap' });
    let acked = 0;
    await open.startConsumers({ onStart: () => undefined, onAcked: () => acked++ });
    const started = Date.now();
    const sampler = setInterval(() => {
      gc();
      const { heapUsed, rss } = process.memoryUsage();
      const mib = (bytes: number) => (bytes / 1_048_576).toFixed(0);
      console.log(`${((Date.now() - started) / 1_000).toFixed(0)} s: acked ${acked}, heap after GC ${mib(heapUsed)} MiB, RSS ${mib(rss)} MiB`);
    }, 10_000);
    try {
      await publishAtRate(open, rate, seconds);
    } finally {
      clearInterval(sampler);
      await open.close();
    }
  } finally {
    await brokers.stop();
    rmSync(tempDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
