import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { findNatsServerBinary } from '../../test/harness/local-nats';
import { findRedisServerBinary } from './redis-server';

export interface MachineInfo {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  natsServer?: string;
  rabbitmqServer?: string;
  redisServer?: string;
  /** npm packages the systems run on, as installed. */
  packages: Record<string, string>;
}

const RABBITMQ_LIB_DIR = '/usr/lib/rabbitmq/lib';
const PACKAGES = ['@nats-io/jetstream', '@nats-io/transport-node', 'amqplib', 'better-sqlite3', 'bullmq', 'ioredis', '@nestjs/core'];

/** What the numbers were measured on; recorded with every result file. */
export function machineInfo(): MachineInfo {
  const nats = findNatsServerBinary();
  const redis = findRedisServerBinary();
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    natsServer: nats ? firstMatch(run(nats, ['--version']), /v?(\d+\.\d+\.\d+)/) : undefined,
    rabbitmqServer: existsSync(RABBITMQ_LIB_DIR) ? firstMatch(readdirSync(RABBITMQ_LIB_DIR).join(' '), /rabbitmq_server-(\d+\.\d+\.\d+)/) : undefined,
    redisServer: redis ? firstMatch(run(redis, ['--version']), /v=(\d+\.\d+\.\d+)/) : undefined,
    packages: Object.fromEntries(PACKAGES.map((name) => [name, installedVersion(name)])),
  };
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 5_000 });
  } catch {
    return '';
  }
}

function firstMatch(text: string, pattern: RegExp): string | undefined {
  return pattern.exec(text)?.[1];
}

function installedVersion(name: string): string {
  try {
    const file = join(__dirname, '..', '..', 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}
