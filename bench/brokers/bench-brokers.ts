import { rmSync } from 'node:fs';
import type { LocalBrokerState } from '../../test/harness/broker-state';
import { relaunchLocalNats, startLocalNats } from '../../test/harness/local-nats';
import { isAlive, kill9, terminate } from '../../test/harness/local-process';
import { startLocalRabbitMq } from '../../test/harness/local-rabbitmq';
import { startLocalRedis, type LocalRedis } from './redis-server';

export type BenchBrokerName = 'nats' | 'rabbitmq' | 'redis';

/** A nats-server the bench may kill -9 and start again on the same port and store (failover scenario). */
export interface BenchNats {
  url: string;
  /** The nats-server process now (it changes on relaunch). */
  pid(): number;
  kill9(): Promise<void>;
  isRunning(): boolean;
  /** Resolves once JetStream answers again. */
  relaunch(): Promise<void>;
}

export interface BenchBrokers {
  nats?: BenchNats;
  rabbitmq?: { url: string };
  redis?: { host: string; port: number };
  /** Why a broker could not be started; the systems on it are skipped with this reason. */
  missing: Partial<Record<BenchBrokerName, string>>;
  /** The broker processes running now (their children included by whoever reads their CPU time). */
  processIds(): number[];
  stop(): Promise<void>;
}

/**
 * Starts private brokers on free loopback ports through the test harness's launchers (and
 * redis-server alongside). A broker that fails to start skips only the systems that need it.
 */
export async function startBenchBrokers(): Promise<BenchBrokers> {
  const [nats, rabbitmq, redis] = await Promise.allSettled([startLocalNats({ dirPrefix: 'tps-kanban-bench-nats-' }), startLocalRabbitMq(), startLocalRedis()]);
  const stops: Array<() => Promise<void>> = [];
  const pids: Array<() => number> = [];
  const brokers: BenchBrokers = { missing: {}, processIds: () => pids.map((pid) => pid()), stop: async () => undefined };

  if (nats.status === 'fulfilled') {
    const local: LocalBrokerState = nats.value;
    brokers.nats = {
      url: `nats://127.0.0.1:${nats.value.port}`,
      pid: () => local.pid,
      kill9: () => kill9(local.pid),
      isRunning: () => isAlive(local.pid),
      relaunch: async () => {
        local.pid = await relaunchLocalNats(local);
      },
    };
    stops.push(() => stopLocal(local));
    pids.push(() => local.pid);
  } else brokers.missing.nats = (nats.reason as Error).message;

  if (rabbitmq.status === 'fulfilled') {
    brokers.rabbitmq = { url: `amqp://guest:guest@127.0.0.1:${rabbitmq.value.port}` };
    const local = rabbitmq.value;
    stops.push(() => stopLocal(local));
    pids.push(() => local.pid);
  } else brokers.missing.rabbitmq = (rabbitmq.reason as Error).message;

  if (redis.status === 'fulfilled') {
    const local: LocalRedis = redis.value;
    brokers.redis = { host: local.host, port: local.port };
    stops.push(() => local.stop());
    pids.push(() => local.pid);
  } else brokers.missing.redis = (redis.reason as Error).message;

  brokers.stop = async () => {
    await Promise.allSettled(stops.map((stop) => stop()));
  };
  return brokers;
}

async function stopLocal(local: LocalBrokerState): Promise<void> {
  await terminate(local.pid);
  if (local.epmd) await terminate(local.epmd.pid);
  rmSync(local.baseDir, { recursive: true, force: true });
}
