/** Injection token of the validated `ServerConfig`. */
export const SERVER_CONFIG = Symbol('kanban-server:config');

/** @default PORT */
export const DEFAULT_PORT = 3000;
/** Where the server listens without KANBAN_API_TOKEN: nothing but this machine can reach an open API. */
export const LOOPBACK_HOST = '127.0.0.1';
/** Where the server listens with KANBAN_API_TOKEN unless KANBAN_HOST says otherwise. */
export const ALL_INTERFACES_HOST = '0.0.0.0';
/** @default KANBAN_RATE_LIMIT_PER_SECOND, per client IP */
export const DEFAULT_RATE_LIMIT_PER_SECOND = 1000;
/** Most KANBAN_NATS_REPLICAS JetStream accepts for a stream. */
export const MAX_NATS_REPLICAS = 5;
/** Shortest KANBAN_API_TOKEN accepted: a guessable token protects nothing. */
export const MIN_API_TOKEN_LENGTH = 16;
/** Room in a request body for the fields around `payload` (domain, headers, idempotency key). */
export const BODY_ENVELOPE_BYTES = 64 * 1024;
/** Deepest JSON nesting a request body may have; deeper bodies get 400 before any parser recursion can blow the stack. */
export const MAX_JSON_DEPTH = 512;
/** Longest a `POST /work/pull` may wait for a first item. */
export const MAX_PULL_WAIT_MS = 30_000;
