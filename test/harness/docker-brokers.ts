import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { GenericContainer, Wait, getContainerRuntimeClient } from 'testcontainers';
import type { BrokerKind, BrokerState } from './broker-state';
import { freePort } from './free-port';

/** The images of docker-compose.test.yml, so tests and developers run the same brokers. */
export const NATS_IMAGE = 'nats:2.10-alpine';
export const RABBITMQ_IMAGE = 'rabbitmq:3.13-management';
/** A Docker engine that does not answer within this time counts as absent. */
const DOCKER_PROBE_TIMEOUT_MS = 3_000;
const CONTAINER_STARTUP_TIMEOUT_MS = 120_000;
const DOCKER_DIR = resolve(__dirname, '..', '..', 'docker');

const NATS_CLIENT_PORT = 4222;
const NATS_MONITOR_PORT = 8222;
const RABBITMQ_AMQP_PORT = 5672;

/** True when a Docker (or Podman) engine answers; never waits longer than DOCKER_PROBE_TIMEOUT_MS. */
export async function dockerEngineAnswers(): Promise<boolean> {
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock'), `/run/user/${process.getuid?.() ?? 0}/podman/podman.sock`];
  if (!process.env.DOCKER_HOST && !process.env.TESTCONTAINERS_HOST_OVERRIDE && !sockets.some((socket) => existsSync(socket))) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(false), DOCKER_PROBE_TIMEOUT_MS);
  });
  const probe = getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a broker container with fixed loopback host ports (free ones picked here), so a
 * restarted container answers on the same URL; its store lives in the container and survives
 * a kill and start.
 */
export async function startDockerBroker(kind: BrokerKind): Promise<BrokerState> {
  return kind === 'nats' ? startNatsContainer() : startRabbitMqContainer();
}

async function startNatsContainer(): Promise<BrokerState> {
  const [port, monitorPort] = [await freePort(), await freePort()];
  const container = await new GenericContainer(NATS_IMAGE)
    .withCopyFilesToContainer([{ source: join(DOCKER_DIR, 'nats', 'nats-server.conf'), target: '/etc/nats/nats-server.conf' }])
    .withCommand(['-c', '/etc/nats/nats-server.conf'])
    .withExposedPorts({ container: NATS_CLIENT_PORT, host: port }, { container: NATS_MONITOR_PORT, host: monitorPort })
    .withWaitStrategy(Wait.forHttp('/healthz', NATS_MONITOR_PORT))
    .withStartupTimeout(CONTAINER_STARTUP_TIMEOUT_MS)
    .start();
  return {
    kind: 'nats',
    source: 'docker',
    url: `nats://127.0.0.1:${port}`,
    port,
    docker: { containerId: container.getId(), image: NATS_IMAGE, monitorPort },
  };
}

async function startRabbitMqContainer(): Promise<BrokerState> {
  const port = await freePort();
  const container = await new GenericContainer(RABBITMQ_IMAGE)
    .withCopyFilesToContainer([{ source: join(DOCKER_DIR, 'rabbitmq', 'rabbitmq.conf'), target: '/etc/rabbitmq/conf.d/20-kanban.conf' }])
    .withExposedPorts({ container: RABBITMQ_AMQP_PORT, host: port })
    .withWaitStrategy(Wait.forSuccessfulCommand('rabbitmq-diagnostics -q check_port_connectivity'))
    .withStartupTimeout(CONTAINER_STARTUP_TIMEOUT_MS)
    .start();
  return {
    kind: 'rabbitmq',
    source: 'docker',
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    docker: { containerId: container.getId(), image: RABBITMQ_IMAGE },
  };
}

/** The dockerode handle of a recorded container, for kill / pause / start from any test worker. */
export async function dockerContainer(containerId: string) {
  const client = await getContainerRuntimeClient();
  return client.container.getById(containerId);
}

export async function removeDockerBroker(containerId: string): Promise<void> {
  const container = await dockerContainer(containerId);
  await container.remove({ force: true, v: true });
}
