import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { PRIORITIES } from '@tps/kanban';
import { ANY_JSON_VALUE, BROKER_NAME, STRING_MAP } from './json-value.schema';
import { GROUP_PROPERTY } from './kanban-fields.schema';

@ApiSchema({ name: 'PublishReceipt', description: 'The item is durably held by `broker`.' })
export class PublishReceiptSchema {
  @ApiProperty()
  id!: string;

  @ApiProperty(BROKER_NAME)
  broker!: string;

  @ApiProperty({ description: 'True when the publish was folded into an earlier one with the same idempotencyKey' })
  duplicate!: boolean;
}

@ApiSchema({ name: 'WorkItem', description: 'An item as a broker stores it.' })
export class WorkItemSchema {
  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: PRIORITIES, enumName: 'Priority' })
  priority!: string;

  @ApiProperty()
  domain!: string;

  @ApiProperty(ANY_JSON_VALUE)
  payload!: unknown;

  @ApiProperty({ type: 'integer', description: 'Epoch ms' })
  deadline!: number;

  @ApiProperty({ type: 'integer', description: 'Epoch ms' })
  publishedAt!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Delivery count; 1 on the first delivery' })
  attempts!: number;

  @ApiPropertyOptional()
  idempotencyKey?: string;

  @ApiProperty(STRING_MAP)
  headers!: Record<string, string>;

  @ApiPropertyOptional(GROUP_PROPERTY)
  group?: string;
}

@ApiSchema({ name: 'PulledItem', description: 'A delivered item with the lease to settle it with.' })
export class PulledItemSchema extends WorkItemSchema {
  @ApiProperty({ description: 'Opaque: pass it back on ack, nack, retry and extend' })
  lease!: string;

  @ApiProperty({ type: 'integer', description: 'Epoch ms estimate of when the lease lapses and the item may go to another worker' })
  leaseExpiresAt!: number;
}

@ApiSchema({ name: 'AckAnswer' })
export class AckAnswerSchema {
  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: ['acked'] })
  status!: 'acked';
}

@ApiSchema({ name: 'NackAnswer' })
export class NackAnswerSchema {
  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: ['dead_lettered'] })
  status!: 'dead_lettered';
}

@ApiSchema({ name: 'RetryAnswer', description: '`dead_lettered` as `max_attempts` when this was the last attempt.' })
export class RetryAnswerSchema {
  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: ['retrying', 'dead_lettered'] })
  status!: 'retrying' | 'dead_lettered';
}

@ApiSchema({ name: 'ExtendAnswer' })
export class ExtendAnswerSchema {
  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: ['extended'] })
  status!: 'extended';

  @ApiProperty({ type: 'integer', description: 'Epoch ms; from the lease the broker granted, which may be shorter than asked' })
  leaseExpiresAt!: number;
}
