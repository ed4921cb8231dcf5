import type { Logger } from '@nestjs/common';
import type { JetStreamManager, NextMsgRequest, SeqMsgRequest } from '@nats-io/jetstream';
import { jsApiCode, JS_ERR } from './nats-errors';

/**
 * After a kill -9, nats-server 2.9 may restart with a consumer state that acknowledged messages its
 * work-queue stream still holds (their removal was not written yet): no consumer delivers them
 * again, and a grouped one would hold its slot for ever. Everything at or below the consumer's ack
 * floor was acknowledged, so such messages on slot subjects (`slotsFilter`) are deleted here; the
 * caller checks first that the stream's first sequence is at or below the floor (one such message at least).
 */
export async function dropAcknowledgedSlots(jsm: JetStreamManager, stream: string, slotsFilter: string, ackFloor: number, logger: Logger): Promise<void> {
  for (let from = 0; ;) {
    const query: NextMsgRequest & SeqMsgRequest = { next_by_subj: slotsFilter, seq: from };
    const stored = await jsm.streams.getMessage(stream, query);
    if (!stored || stored.seq > ackFloor) return;
    await jsm.streams.deleteMessage(stream, stored.seq).catch((error: unknown) => {
      if (jsApiCode(error) !== JS_ERR.noMessageFound && jsApiCode(error) !== JS_ERR.sequenceNotFound) throw error;
    });
    logger.warn(`freed slot ${stored.subject} of ${stream}: message ${stored.seq} was acknowledged (ack floor ${ackFloor}) yet still stored after a server restart`);
    from = stored.seq + 1;
  }
}
