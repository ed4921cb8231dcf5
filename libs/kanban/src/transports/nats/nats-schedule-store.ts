import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { ScheduleDefinition, ScheduleStore } from '../../scheduler/schedule-coordination.interface';
import { brokerCall, brokerError } from './nats-errors';
import { ensureLastValueStream } from './nats-schedule-stream';

export interface NatsScheduleClients {
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** jobIds may hold '.', which would split a subject token. */
const token = (jobId: string): string => Buffer.from(jobId).toString('hex');

/**
 * Schedules in a last-value stream `{prefix}_SCHEDULES`: the definition on
 * `{root}.schedules.def.{hex jobId}`, the last fired tick time on `{root}.schedules.tick.{hex jobId}`.
 * File storage with the transport's replicas, so schedules survive restarts of instances and of
 * nats-server.
 */
export class NatsScheduleStore implements ScheduleStore {
  private readonly stream: string;
  private readonly root: string;
  private ready?: Promise<void>;

  constructor(
    private readonly clients: () => NatsScheduleClients,
    prefix: string,
    private readonly replicas: number,
  ) {
    this.stream = `${prefix}_SCHEDULES`;
    this.root = `${prefix.toLowerCase()}.schedules`;
  }

  async save(definition: ScheduleDefinition): Promise<void> {
    const { js } = await this.open('save a schedule');
    await brokerCall('save a schedule', () => js.publish(`${this.root}.def.${token(definition.jobId)}`, JSON.stringify(definition)));
  }

  async remove(jobId: string): Promise<void> {
    const { jsm } = await this.open('remove a schedule');
    await brokerCall('remove a schedule', () => jsm.streams.purge(this.stream, { filter: `${this.root}.*.${token(jobId)}` }));
  }

  async list(): Promise<ScheduleDefinition[]> {
    const { jsm } = await this.open('list schedules');
    const info = await brokerCall('list schedules', () => jsm.streams.info(this.stream, { subjects_filter: `${this.root}.def.>` }));
    const subjects = Object.keys(info.state.subjects ?? {});
    const messages = await Promise.all(subjects.map((subject) => brokerCall('read a schedule', () => jsm.streams.getMessage(this.stream, { last_by_subj: subject }))));
    return messages.filter((message) => message !== null).map((message) => JSON.parse(new TextDecoder().decode(message.data)) as ScheduleDefinition);
  }

  async recordTick(jobId: string, tickTime: number): Promise<void> {
    const { js } = await this.open('record a tick');
    await brokerCall('record a tick', () => js.publish(`${this.root}.tick.${token(jobId)}`, String(tickTime)));
  }

  async lastTick(jobId: string): Promise<number | undefined> {
    const { jsm } = await this.open('read the last tick');
    const message = await brokerCall('read the last tick', () => jsm.streams.getMessage(this.stream, { last_by_subj: `${this.root}.tick.${token(jobId)}` }));
    return message ? Number(new TextDecoder().decode(message.data)) : undefined;
  }

  private async open(action: string): Promise<NatsScheduleClients> {
    const clients = this.clients();
    this.ready ??= ensureLastValueStream(clients.jsm, { name: this.stream, subjects: [`${this.root}.>`], num_replicas: this.replicas }).catch((error: unknown) => {
      this.ready = undefined;
      throw brokerError(error, action);
    });
    await this.ready;
    return clients;
  }
}
