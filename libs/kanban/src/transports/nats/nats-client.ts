import type * as Nats from '@nats-io/transport-node';
import { exportLazily } from '../optional-dependency';

// `@nats-io/transport-node` is an optional peer dependency, loaded when the NATS transport first calls it.
export declare const connect: typeof Nats.connect;
export declare const createInbox: typeof Nats.createInbox;
export declare const errors: typeof Nats.errors;
export declare const headers: typeof Nats.headers;
export declare const nanos: typeof Nats.nanos;
export declare const nkeyAuthenticator: typeof Nats.nkeyAuthenticator;
exportLazily(exports as object, '@nats-io/transport-node', 'The NATS transport', ['connect', 'createInbox', 'errors', 'headers', 'nanos', 'nkeyAuthenticator']);
