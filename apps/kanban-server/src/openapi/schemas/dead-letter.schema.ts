import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { DEAD_LETTER_REASONS, PRIORITIES } from '@tps/kanban';
import { BROKER_NAME } from './json-value.schema';
import { WorkItemSchema } from './work.schema';

@ApiSchema({ name: 'DeadLetter', description: 'A dead-lettered item: the original fields plus why, when and how often it was tried.' })
export class DeadLetterSchema {
  @ApiProperty({ description: "The original item's id (for a malformed message, an id the library gave it)" })
  id!: string;

  @ApiProperty({ enum: PRIORITIES, enumName: 'Priority' })
  priority!: string;

  @ApiProperty()
  domain!: string;

  @ApiPropertyOptional({ type: WorkItemSchema, description: 'The original item; absent only for a malformed message' })
  item?: WorkItemSchema;

  @ApiPropertyOptional({ format: 'byte', description: 'Base64 of the undecodable bytes of a malformed message' })
  raw?: string;

  @ApiProperty({ enum: DEAD_LETTER_REASONS, enumName: 'DeadLetterReason' })
  reason!: string;

  @ApiPropertyOptional({ description: "The caller's reason for nack, the last error for max_attempts, the decode error for malformed" })
  error?: string;

  @ApiProperty({ type: 'integer' })
  attempts!: number;

  @ApiProperty({ type: 'integer', description: 'Epoch ms' })
  deadLetteredAt!: number;

  @ApiProperty(BROKER_NAME)
  broker!: string;
}

@ApiSchema({ name: 'DeadLetterPage', description: 'Oldest first; pass `nextCursor` back as `cursor` for the next page.' })
export class DeadLetterPageSchema {
  @ApiProperty({ type: [DeadLetterSchema] })
  items!: DeadLetterSchema[];

  @ApiPropertyOptional({ description: 'Present when more letters may follow' })
  nextCursor?: string;
}

@ApiSchema({ name: 'ReplayReceipt', description: 'The new item the dead letter was republished as.' })
export class ReplayReceiptSchema {
  @ApiProperty()
  id!: string;

  @ApiProperty(BROKER_NAME)
  broker!: string;
}
