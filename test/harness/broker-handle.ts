import { connect } from 'node:net';
import { brokersOfThisWorker, readHarnessState, updateBrokerState, type BrokerKind, type BrokerSource, type BrokerState } from './broker-state';
import { dockerContainer } from './docker-brokers';
import { howToGetBroker } from './global-setup';
import { relaunchLocalNats, waitForNatsReady } from './local-nats';
import { relaunchLocalRabbitMq, waitForRabbitMqReady } from './local-rabbitmq';
import { isAlive, kill9, signalGroup, terminate } from './local-process';
import { waitFor } from './wait-for';

const DOCKER_READY_TIMEOUT_MS = 90_000;

/**
 * One broker of the test run, as recorded by globalSetup. Chaos helpers act on the process or
 * container and update the shared state file, so every test worker sees the current pid.
 * Only brokers the harness started are controllable; one given by URL is not.
 */
export class BrokerHandle {
  constructor(readonly kind: BrokerKind) {}

  private get state(): BrokerState {
    const state = readHarnessState();
    const broker = state && brokersOfThisWorker(state)[this.kind];
    if (broker) return broker;
    const reason = state?.unavailable[this.kind] ?? howToGetBroker(this.kind, 'the Jest globalSetup of test/harness did not run');
    throw new Error(reason);
  }

  get url(): string {
    return this.state.url;
  }

  get port(): number {
    return this.state.port;
  }

  get source(): BrokerSource {
    return this.state.source;
  }

  /** False for a broker given by URL (or none at all): tests that kill or freeze it fail then (itControllingBrokers). */
  get controllable(): boolean {
    const state = readHarnessState();
    const source = state && brokersOfThisWorker(state)[this.kind]?.source;
    return source === 'docker' || source === 'local';
  }

  /** True while the broker process runs (stopped by SIGSTOP counts as running). */
  async isRunning(): Promise<boolean> {
    const broker = this.controlled('isRunning');
    if (broker.local) return isAlive(broker.local.pid);
    const info = await (await dockerContainer(broker.docker!.containerId)).inspect();
    return info.State.Running;
  }

  /** kill -9: no shutdown, no flush. Resolves once the process is gone. */
  async kill9(): Promise<void> {
    const broker = this.controlled('kill9');
    if (broker.local) await kill9(broker.local.pid);
    else await (await dockerContainer(broker.docker!.containerId)).kill({ signal: 'SIGKILL' });
  }

  /** Graceful stop (SIGTERM). */
  async stop(): Promise<void> {
    const broker = this.controlled('stop');
    if (broker.local) await terminate(broker.local.pid);
    else await (await dockerContainer(broker.docker!.containerId)).stop();
  }

  /** Freezes the broker: connections stay open and nothing answers. */
  async sigstop(): Promise<void> {
    const broker = this.controlled('sigstop');
    if (broker.local) signalGroup(broker.local.pid, 'SIGSTOP');
    else await (await dockerContainer(broker.docker!.containerId)).pause();
  }

  async sigcont(): Promise<void> {
    const broker = this.controlled('sigcont');
    if (broker.local) signalGroup(broker.local.pid, 'SIGCONT');
    else await (await dockerContainer(broker.docker!.containerId)).unpause();
  }

  /**
   * Starts the broker again on the same port with the same store (stopping it gracefully first
   * if it still runs) and resolves once it serves clients.
   */
  async restart(): Promise<void> {
    const broker = this.controlled('restart');
    if (await this.isRunning()) {
      await this.sigcont();
      await this.stop();
    }
    if (broker.local) {
      const pid = this.kind === 'nats' ? await relaunchLocalNats(broker.local) : await relaunchLocalRabbitMq(broker.local);
      updateBrokerState(this.kind, (recorded) => {
        recorded.local!.pid = pid;
      });
      return;
    }
    const container = await dockerContainer(broker.docker!.containerId);
    await container.start();
    await this.waitForDockerReady(broker);
  }

  /** Resolves once the broker serves clients (after a restart or a SIGCONT). */
  async waitUntilReady(): Promise<void> {
    const broker = this.controlled('waitUntilReady');
    if (broker.local) {
      if (this.kind === 'nats') await waitForNatsReady(broker.local.monitorPort!, broker.local.spec.logFile);
      else await waitForRabbitMqReady(broker.local);
      return;
    }
    await this.waitForDockerReady(broker);
  }

  private async waitForDockerReady(broker: BrokerState): Promise<void> {
    const probe =
      this.kind === 'nats' ? async () => (await fetch(`http://127.0.0.1:${broker.docker!.monitorPort}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok : () => amqpListenerAnswers(broker.port);
    await waitFor(probe, { timeoutMs: DOCKER_READY_TIMEOUT_MS, intervalMs: 250, description: `${this.kind} container ${broker.docker!.containerId} to serve clients` });
  }

  private controlled(action: string): BrokerState {
    const broker = this.state;
    if (broker.source === 'env') {
      throw new Error(`${this.kind} broker comes from ${broker.url.replace(/\/\/[^@/]*@/, '//***@')} (environment); the harness cannot ${action} it. Check \`controllable\` first.`);
    }
    return broker;
  }
}

/** RabbitMQ answers the AMQP protocol header with connection.start once its listener is up. */
function amqpListenerAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('data', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The NATS server of this Jest worker (of the run, when it has one set). `url` throws, with how to get one, when none could be provided. */
export function natsBroker(): BrokerHandle {
  return new BrokerHandle('nats');
}

/** The RabbitMQ node of this Jest worker. `url` is `amqp://guest:guest@127.0.0.1:<port>` for a started one. */
export function rabbitmqBroker(): BrokerHandle {
  return new BrokerHandle('rabbitmq');
}
