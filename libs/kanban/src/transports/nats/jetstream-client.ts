import type * as Jetstream from '@nats-io/jetstream';
import { exportLazily } from '../optional-dependency';

// `@nats-io/jetstream` is an optional peer dependency, loaded when the NATS transport first calls it.
export declare const jetstream: typeof Jetstream.jetstream;
export declare const jetstreamManager: typeof Jetstream.jetstreamManager;
export declare const JetStreamApiError: typeof Jetstream.JetStreamApiError;
export declare const JetStreamError: typeof Jetstream.JetStreamError;
export declare const PubHeaders: typeof Jetstream.PubHeaders;
export declare const AckPolicy: typeof Jetstream.AckPolicy;
export declare const DeliverPolicy: typeof Jetstream.DeliverPolicy;
export declare const DiscardPolicy: typeof Jetstream.DiscardPolicy;
export declare const RetentionPolicy: typeof Jetstream.RetentionPolicy;
export declare const StorageType: typeof Jetstream.StorageType;
exportLazily(exports as object, '@nats-io/jetstream', 'The NATS transport', [
  'jetstream',
  'jetstreamManager',
  'JetStreamApiError',
  'JetStreamError',
  'PubHeaders',
  'AckPolicy',
  'DeliverPolicy',
  'DiscardPolicy',
  'RetentionPolicy',
  'StorageType',
]);
