import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError, loadServerConfig } from '../src/config';

const TOKEN = 'config-token-0123456789';

function problemsOf(env: Record<string, string>): EnvironmentError {
  try {
    loadServerConfig(env);
  } catch (error) {
    if (error instanceof EnvironmentError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('Environment configuration', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kanban-config-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills in the defaults and listens on loopback only without a token', () => {
    const config = loadServerConfig({});

    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', rateLimitPerSecond: 1000, bodyLimitBytes: 512 * 1024 + 64 * 1024 });
    expect(config.apiToken).toBeUndefined();
    expect(config.kanban).toMatchObject({ embedded: { path: undefined } });
  });

  it('listens on every interface with a token, unless KANBAN_HOST says otherwise', () => {
    expect(loadServerConfig({ KANBAN_API_TOKEN: TOKEN }).host).toBe('0.0.0.0');
    expect(loadServerConfig({ KANBAN_API_TOKEN: TOKEN, KANBAN_HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
  });

  it('maps every kanban variable to its library option', () => {
    const config = loadServerConfig({
      KANBAN_EMBEDDED_PATH: '/var/lib/kanban.db',
      KANBAN_WORKER_PULL_SIZE: '20',
      KANBAN_WORKER_PROCESS_TIMEOUT_MS: '1000',
      KANBAN_DEAD_LETTER_TIMEOUT_MS: '2000',
      KANBAN_COORDINATOR_CHECK_INTERVAL_MS: '3000',
      KANBAN_MAX_QUEUE_DEPTH: '4000',
      KANBAN_MAX_DOMAINS: '900',
      KANBAN_MAX_ATTEMPTS: '5',
      KANBAN_MAX_PAYLOAD_BYTES: '6000',
      KANBAN_FAILOVER_PUBLISH_TIMEOUT_MS: '700',
      KANBAN_OUTBOX_MAX_ITEMS: '8000',
      KANBAN_METRICS_LATENCY_MS: 'true',
      KANBAN_NATS_SERVERS: 'nats://a:4222, tls://b:4222',
      KANBAN_NATS_USER: 'kanban',
      KANBAN_NATS_PASS: 'secret',
      KANBAN_RABBITMQ_URL: 'amqps://kanban:secret@rabbit/kanban',
      PORT: '8080',
    });

    expect(config.port).toBe(8080);
    expect(config.kanban).toEqual({
      embedded: { path: '/var/lib/kanban.db' },
      workerPullSize: 20,
      workerProcessTimeoutMs: 1000,
      deadLetterTimeoutMs: 2000,
      coordinatorCheckIntervalMs: 3000,
      maxQueueDepth: 4000,
      maxDomains: 900,
      maxAttempts: 5,
      maxPayloadBytes: 6000,
      failover: { publishTimeoutMs: 700, outboxMaxItems: 8000 },
      latencyMsMetric: true,
      nats: { servers: ['nats://a:4222', 'tls://b:4222'], user: 'kanban', pass: 'secret' },
      rabbitmq: { url: 'amqps://kanban:secret@rabbit/kanban' },
    });
  });

  it('reads KANBAN_TRUST_PROXY as a hop count or a list of proxies, and KANBAN_ALLOWED_HOSTS as lower-case names', () => {
    expect(loadServerConfig({ KANBAN_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadServerConfig({ KANBAN_TRUST_PROXY: 'loopback, 10.0.0.0/8 ,fd00::1' }).trustProxy).toEqual(['loopback', '10.0.0.0/8', 'fd00::1']);
    expect(loadServerConfig({}).trustProxy).toBeUndefined();
    expect(loadServerConfig({ KANBAN_ALLOWED_HOSTS: 'Kanban.Example.com, ops' }).allowedHosts).toEqual(['kanban.example.com', 'ops']);
    expect(loadServerConfig({}).allowedHosts).toEqual([]);
    expect(loadServerConfig({ KANBAN_API_TOKEN: TOKEN }).allowedHosts).toBeUndefined();
  });

  it('reads the NATS stream replicas and a RabbitMQ cluster given as a comma list of URLs', () => {
    const config = loadServerConfig({
      KANBAN_NATS_SERVERS: 'nats://a:4222,nats://b:4222,nats://c:4222',
      KANBAN_NATS_REPLICAS: '3',
      KANBAN_RABBITMQ_URL: 'amqp://kanban:secret@r1:5672, amqp://kanban:secret@r2:5672,amqp://kanban:secret@r3:5672',
    });

    expect(config.kanban.nats).toEqual({ servers: ['nats://a:4222', 'nats://b:4222', 'nats://c:4222'], replicas: 3 });
    expect(config.kanban.rabbitmq).toEqual({ url: 'amqp://kanban:secret@r1:5672,amqp://kanban:secret@r2:5672,amqp://kanban:secret@r3:5672' });
  });

  it('reads the NATS publish timeout, which a cluster deployment raises above a leader election', () => {
    const config = loadServerConfig({ KANBAN_NATS_SERVERS: 'nats://a:4222,nats://b:4222', KANBAN_NATS_PUBLISH_TIMEOUT_MS: '15000' });

    expect(config.kanban.nats).toEqual({ servers: ['nats://a:4222', 'nats://b:4222'], publishTimeoutMs: 15_000 });
  });

  it('treats empty variables as unset', () => {
    expect(loadServerConfig({ KANBAN_API_TOKEN: '', PORT: '', KANBAN_NATS_SERVERS: ' ' })).toMatchObject({ port: 3000, host: '127.0.0.1' });
  });

  it('reads TLS files named by the variables', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'PEM');

    const config = loadServerConfig({ KANBAN_NATS_SERVERS: 'tls://a:4222', KANBAN_NATS_TLS_CA: ca, KANBAN_RABBITMQ_URL: 'amqps://r', KANBAN_RABBITMQ_TLS_CA: ca });

    expect(config.kanban.nats?.tls?.ca?.toString()).toBe('PEM');
    expect(config.kanban.rabbitmq?.tls?.ca?.toString()).toBe('PEM');
  });

  it.each([
    ['KANBAN_WORKER_PULL_SIZE', 'abc'],
    ['KANBAN_WORKER_PULL_SIZE', '0'],
    ['KANBAN_WORKER_PULL_SIZE', '1e3'],
    ['KANBAN_WORKER_PROCESS_TIMEOUT_MS', '-5'],
    ['KANBAN_DEAD_LETTER_TIMEOUT_MS', '1.5'],
    ['KANBAN_COORDINATOR_CHECK_INTERVAL_MS', 'soon'],
    ['KANBAN_MAX_QUEUE_DEPTH', '0x10'],
    ['KANBAN_MAX_ATTEMPTS', 'three'],
    ['KANBAN_MAX_DOMAINS', '0'],
    ['KANBAN_MAX_PAYLOAD_BYTES', '0'],
    ['KANBAN_FAILOVER_PUBLISH_TIMEOUT_MS', '-1'],
    ['KANBAN_OUTBOX_MAX_ITEMS', 'many'],
    ['KANBAN_METRICS_LATENCY_MS', 'yes'],
    ['KANBAN_RATE_LIMIT_PER_SECOND', '0'],
    ['PORT', '70000'],
    ['KANBAN_NATS_SERVERS', 'http://a:4222'],
    ['KANBAN_NATS_SERVERS', 'nats://a:4222,,nats://b'],
    ['KANBAN_RABBITMQ_URL', 'redis://x'],
    ['KANBAN_RABBITMQ_URL', 'amqp://a:5672,redis://b'],
    ['KANBAN_NATS_REPLICAS', '0'],
    ['KANBAN_NATS_REPLICAS', '6'],
    ['KANBAN_NATS_PUBLISH_TIMEOUT_MS', '0'],
    ['KANBAN_HOST', 'a host'],
    ['KANBAN_NATS_NKEY_SEED', 'UA-not-a-seed'],
    ['KANBAN_ALLOWED_HOSTS', 'kanban.example.com:8080'],
    ['KANBAN_ALLOWED_HOSTS', 'a.example,,b.example'],
    ['KANBAN_TRUST_PROXY', 'true'],
    ['KANBAN_TRUST_PROXY', '999.1.1.1'],
    ['KANBAN_TRUST_PROXY', 'loopback, a proxy'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    const error = problemsOf({ KANBAN_NATS_SERVERS: 'nats://a:4222', [variable]: value });

    expect(error.problems.map((p) => p.variable)).toEqual([variable]);
    expect(error.message).toContain(variable);
  });

  it('lists every bad variable at once', () => {
    const error = problemsOf({ KANBAN_WORKER_PULL_SIZE: 'x', PORT: 'y', KANBAN_MAX_ATTEMPTS: 'z' });

    expect(error.problems.map((p) => p.variable).sort()).toEqual(['KANBAN_MAX_ATTEMPTS', 'KANBAN_WORKER_PULL_SIZE', 'PORT']);
  });

  it('refuses a short token and never repeats it', () => {
    const error = problemsOf({ KANBAN_API_TOKEN: 'hunter2' });

    expect(error.problems).toEqual([{ variable: 'KANBAN_API_TOKEN', message: expect.stringContaining('at least 16') }]);
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses to listen beyond loopback without a token', () => {
    expect(problemsOf({ KANBAN_HOST: '0.0.0.0' }).problems).toEqual([{ variable: 'KANBAN_HOST', message: expect.stringContaining('KANBAN_API_TOKEN') }]);
    expect(loadServerConfig({ KANBAN_HOST: '::1' }).host).toBe('::1');
  });

  it.each([
    ['NATS credentials without servers', { KANBAN_NATS_USER: 'kanban', KANBAN_NATS_PASS: 'secret' }, ['KANBAN_NATS_PASS', 'KANBAN_NATS_USER']],
    ['a NATS user without a password', { KANBAN_NATS_SERVERS: 'nats://a', KANBAN_NATS_USER: 'kanban' }, ['KANBAN_NATS_PASS']],
    ['two NATS credentials', { KANBAN_NATS_SERVERS: 'nats://a', KANBAN_NATS_USER: 'kanban', KANBAN_NATS_PASS: 'secret', KANBAN_NATS_TOKEN: 'secret' }, ['KANBAN_NATS_TOKEN']],
    ['unreadable TLS files', { KANBAN_NATS_SERVERS: 'nats://a', KANBAN_NATS_TLS_CERT: '/nowhere/cert.pem', KANBAN_NATS_TLS_KEY: '/nowhere/key.pem' }, ['KANBAN_NATS_TLS_CERT', 'KANBAN_NATS_TLS_KEY']],
    ['a RabbitMQ CA without a URL', { KANBAN_RABBITMQ_TLS_CA: '/nowhere/ca.pem' }, ['KANBAN_RABBITMQ_TLS_CA']],
  ])('refuses %s', (_case, env: Record<string, string>, variables) => {
    const error = problemsOf(env);

    expect(error.problems.map((p) => p.variable).sort()).toEqual(variables);
    expect(error.message).not.toContain('secret');
  });
});
