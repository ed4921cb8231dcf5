import type { FleetInstance, FleetMembership } from '../../transport/fleet-membership.interface';
import { nanos } from './nats-client';
import { brokerCall, brokerError } from './nats-errors';
import { ensureLastValueStream } from './nats-schedule-stream';
import type { NatsScheduleClients } from './nats-schedule-store';

/**
 * The fleet as a NATS KV-style bucket: a last-value stream `{prefix}_FLEET` with one record per
 * instance on `{root}.fleet.{id}` and `max_age` = the member TTL, so JetStream itself drops an
 * instance that stopped announcing (killed, partitioned). Leaving purges the record at once.
 */
export class NatsFleetMembership implements FleetMembership {
  private readonly stream: string;
  private readonly root: string;
  private ready?: Promise<void>;

  constructor(
    private readonly clients: () => NatsScheduleClients,
    prefix: string,
    private readonly replicas: number,
    private readonly memberTtlMs: number,
  ) {
    this.stream = `${prefix}_FLEET`;
    this.root = `${prefix.toLowerCase()}.fleet`;
  }

  async announce(instance: FleetInstance): Promise<void> {
    const { js } = await this.open('announce this instance');
    await brokerCall('announce this instance', () => js.publish(`${this.root}.${instance.id}`, JSON.stringify(instance)));
  }

  async members(): Promise<FleetInstance[]> {
    const { jsm } = await this.open('read the fleet');
    const info = await brokerCall('read the fleet', () => jsm.streams.info(this.stream, { subjects_filter: `${this.root}.*` }));
    const subjects = Object.keys(info.state.subjects ?? {});
    const records = await Promise.all(subjects.map((subject) => brokerCall('read the fleet', () => jsm.streams.getMessage(this.stream, { last_by_subj: subject }))));
    return records.filter((record) => record !== null).map((record) => JSON.parse(new TextDecoder().decode(record.data)) as FleetInstance);
  }

  async leave(id: string): Promise<void> {
    const { jsm } = await this.open('leave the fleet');
    await brokerCall('leave the fleet', () => jsm.streams.purge(this.stream, { filter: `${this.root}.${id}` }));
  }

  private async open(action: string): Promise<NatsScheduleClients> {
    const clients = this.clients();
    const ttl = nanos(this.memberTtlMs);
    this.ready ??= ensureLastValueStream(clients.jsm, { name: this.stream, subjects: [`${this.root}.*`], num_replicas: this.replicas, max_age: ttl, duplicate_window: ttl }).catch((error: unknown) => {
      this.ready = undefined;
      throw brokerError(error, action);
    });
    await this.ready;
    return clients;
  }
}
