import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { AckPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { parseAckSubject } from '../../libs/kanban/src/transports/nats/nats-lease';
import { NatsNames } from '../../libs/kanban/src/transports/nats/nats-names';
import { NatsDeliveryVerifier } from '../../libs/kanban/src/transports/nats/nats-delivery-verifier';
import { NATS_DELIVERY_UNVERIFIED_HOLD_MS } from '../../libs/kanban/src/transports/nats/nats.constants';
import { natsBroker, testNamespace } from '../harness';

const CONSUMER = 'worker';
const ACK_WAIT_NS = 30_000_000_000;
const REDELIVERY_WAIT_MS = 500;

/**
 * The delivery check after cluster trouble, on the run's NATS server: while the stream leader
 * cannot be asked (here: a JetStream API prefix nothing answers, as during an election), a delivery
 * is held, not released: each release spends one of the item's attempts, and an election outlasts
 * a few of them.
 */
describe('NATS delivery verifier: deliveries whose stream leader cannot be asked', () => {
  const logger = new Logger('verifier-spec');
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let unanswering: JetStreamManager;
  let stream = '';

  beforeAll(async () => {
    // The holds and releases under test log warnings, which say nothing on success.
    Logger.overrideLogger(false);
    nc = await connect({ servers: natsBroker().url });
    jsm = await jetstreamManager(nc);
    unanswering = await jetstreamManager(nc, { apiPrefix: '$JS.nobody.API', timeout: 500, checkAPI: false });
  });

  afterAll(async () => {
    if (stream) await jsm.streams.delete(stream);
    await nc.close();
  });

  /** A stream with one item and a delivery of it, unacknowledged. */
  async function deliveredItem(): Promise<Msg> {
    stream = `${testNamespace().streamPrefix}_VERIFY`;
    await jsm.streams.add({ name: stream, subjects: [`${stream}.work`] });
    await jsm.consumers.add(stream, { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: ACK_WAIT_NS });
    await nc.request(`${stream}.work`, 'item');
    return nc.request(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${CONSUMER}`, JSON.stringify({ batch: 1 }), { timeout: 2_000, noMux: true });
  }

  /**
   * The delivery count of what a pull gets within REDELIVERY_WAIT_MS; undefined when nothing is
   * ready for redelivery (a no-wait pull does not see a NAKed item in nats-server 2.9).
   */
  async function redeliveredNow(): Promise<number | undefined> {
    const answer = await nc.request(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${CONSUMER}`, JSON.stringify({ batch: 1, expires: REDELIVERY_WAIT_MS * 1_000_000 }), { timeout: 2_000, noMux: true });
    return answer.headers?.code ? undefined : parseAckSubject(answer.reply ?? '')?.deliveryCount;
  }

  it('holds an unanswered delivery unreleased, hands it out once the leader answers, and releases it only after the hold limit', async () => {
    // Arrange
    const message = await deliveredItem();
    let clients = { nc, jsm: unanswering };
    const verifier = new NatsDeliveryVerifier(true, new NatsNames('KT'), () => clients, logger);
    verifier.suspect('a test of cluster trouble');

    // Act
    const whileElecting = await verifier.verify(stream, CONSUMER, [{ message, arrivedAt: performance.now() }]);
    const redeliveredWhileElecting = await redeliveredNow();
    clients = { nc, jsm };
    const afterElection = await verifier.verify(stream, CONSUMER, whileElecting.unanswered);
    clients = { nc, jsm: unanswering };
    const pastTheHold = await verifier.verify(stream, CONSUMER, [{ message, arrivedAt: performance.now(), unverifiedSince: performance.now() - NATS_DELIVERY_UNVERIFIED_HOLD_MS }]);
    const redeliveredAfterHold = await redeliveredNow();

    // Assert
    expect(whileElecting.verified).toEqual([]);
    expect(whileElecting.unanswered.map((entry) => entry.message)).toEqual([message]);
    expect(redeliveredWhileElecting).toBeUndefined();
    expect(afterElection.verified.map((entry) => entry.message)).toEqual([message]);
    expect(afterElection.unanswered).toEqual([]);
    expect(pastTheHold).toEqual({ verified: [], unanswered: [] });
    expect(redeliveredAfterHold).toBe(2);
  });
});
