import type { ApiPropertyOptions } from '@nestjs/swagger';

/** Any JSON value, null included: a work item's payload, stored byte for byte as sent. */
export const ANY_JSON_VALUE: ApiPropertyOptions = {
  nullable: true,
  oneOf: [{ type: 'object' }, { type: 'array', items: {} }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }],
};

/** Names a broker: `nats`, `rabbitmq`, `embedded`, `outbox` while every broker is down, or a custom transport's name. */
export const BROKER_NAME: ApiPropertyOptions = { type: 'string', example: 'nats', description: 'nats, rabbitmq, embedded, outbox (every broker down) or a custom transport' };

/** A string map such as an item's headers. */
export const STRING_MAP: ApiPropertyOptions = { type: 'object', additionalProperties: { type: 'string' } };
