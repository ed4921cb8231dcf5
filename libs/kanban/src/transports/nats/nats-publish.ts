import type { PubAck } from '@nats-io/jetstream';
import { JetStreamApiError, JetStreamError, PubHeaders } from './jetstream-client';
import { headers } from './nats-client';
import type { NatsReplies } from './nats-replies';

export interface JetStreamPublish {
  subject: string;
  data: Uint8Array;
  msgID: string;
  /** The stream kanban declared for the subject; the server refuses the message if another captures it. */
  stream: string;
  /** Kanban's own headers (attempts carried over, due time). */
  headers?: Record<string, string>;
  /** Stored only if the subject's last message has this sequence (0: the subject holds none): a compare-and-set. */
  expectLastSubjectSequence?: number;
}

/**
 * What `js.publish(subject, data, { msgID, expect: { streamName } })` does, through the shared
 * reply inbox: resolves on the PubAck, throws the JetStreamApiError the server answered with.
 */
export async function publishToJetStream(replies: NatsReplies, publish: JetStreamPublish): Promise<PubAck> {
  const h = headers();
  h.set(PubHeaders.MsgIdHdr, publish.msgID);
  h.set(PubHeaders.ExpectedStreamHdr, publish.stream);
  if (publish.expectLastSubjectSequence !== undefined) h.set(PubHeaders.ExpectedLastSubjectSequenceHdr, String(publish.expectLastSubjectSequence));
  for (const [name, value] of Object.entries(publish.headers ?? {})) h.set(name, value);
  const answer = await replies.request(publish.subject, publish.data, h);
  const ack = answer.json<PubAck & { error?: ConstructorParameters<typeof JetStreamApiError>[0] }>();
  if (ack.error) throw new JetStreamApiError(ack.error);
  if (!ack.stream) throw new JetStreamError('invalid ack response');
  return { ...ack, duplicate: ack.duplicate ?? false };
}
