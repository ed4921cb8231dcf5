import { nanos } from './nats-client';

/** JetStream's settle vocabulary, sent as requests so the server confirms each one (double ack). */
export const ACK = '+ACK';
export const IN_PROGRESS = '+WPI';
export const TERM = '+TERM';
export const nak = (delayMs: number): string => `-NAK ${JSON.stringify({ delay: nanos(delayMs) })}`;
