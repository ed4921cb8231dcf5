export * from './kanban.module';
export * from './kanban-core.module';
export { type KanbanModuleExtras } from './kanban.module-definition';
export {
  KANBAN_TRANSPORT,
  KANBAN_OPTIONS,
  PRIORITIES,
  DOMAIN_PATTERN,
  DEFAULT_CIRCUIT_BREAKER_THRESHOLD,
  DEFAULT_CIRCUIT_BREAKER_COOLDOWN_MS,
} from './kanban.constants';
export * from './interfaces';
export * from './errors';
export { resolveKanbanOptions, transportSettingsFrom } from './kanban-options';
export { KanbanTransport, type TransportSettings, type TransportState, type TransportStatus } from './transport/kanban-transport';
export type { ControlChannel, ControlHandler } from './transport/control-channel.interface';
export type { FleetCoordination, FleetInstance, FleetMembership, FleetSettings } from './transport/fleet-membership.interface';
export type { LeaseLeadership } from './transport/lease-leadership.interface';
// From its file, not the folder's index: that one also re-exports the schema, whose declarations need better-sqlite3's types.
export { EmbeddedTransport } from './transports/embedded/embedded.transport';
export { NatsTransport } from './transports/nats';
export { RabbitMqTransport } from './transports/rabbitmq';
export { FailoverTransport, OutboxStore, type FailoverOptions, type OutboxStoreOptions } from './transports/failover';
export { validatePublishRequest, domainError, priorityError, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_HEADER_COUNT, MAX_HEADER_VALUE_LENGTH } from './validation';
export { encodeItem, decodeItem, MalformedItemError, newItemId } from './codec';
export { KanbanQueue, QueueModule, REPLAYED_FROM_HEADER, type PullRequest, type RetryOutcome } from './queue';
export { TRACEPARENT_HEADER, TRACESTATE_HEADER } from './tracing/tracing.constants';
export { isTraceparent } from './tracing/traceparent';
export * from './worker';
export * from './scheduler';
export * from './canary';
export * from './coordinator';
export * from './health';
export * from './metrics';
export * from './events';
export * from './http';
export * from './logging';
