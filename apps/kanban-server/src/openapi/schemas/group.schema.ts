import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { GROUP_PROPERTY } from './kanban-fields.schema';

@ApiSchema({ name: 'GroupLimits', description: 'Limits of one group; an absent field is no limit.' })
export class GroupLimitsSchema {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Items of the group leased at once, across the fleet' })
  maxInFlight?: number;

  @ApiPropertyOptional({ type: 'number', exclusiveMinimum: true, minimum: 0, description: 'Items of the group handed out per second, across the fleet' })
  ratePerSecond?: number;
}

@ApiSchema({ name: 'GroupState', description: 'One group of a domain, over all priorities.' })
export class GroupStateSchema {
  @ApiProperty(GROUP_PROPERTY)
  group!: string;

  @ApiProperty({ type: 'integer', description: 'Items waiting to be handed out' })
  ready!: number;

  @ApiProperty({ type: 'integer', description: 'Items leased now (on NATS: admitted to the queue)' })
  inFlight!: number;

  @ApiProperty({ type: GroupLimitsSchema, description: "In force: the group's own, else the domain's defaults, else the global ones" })
  limits!: GroupLimitsSchema;

  @ApiPropertyOptional({ type: GroupLimitsSchema, description: 'The limits set for this group at run time, if any' })
  override?: GroupLimitsSchema;
}

@ApiSchema({ name: 'GroupPage', description: 'Groups that hold items or limits of their own, by name.' })
export class GroupPageSchema {
  @ApiProperty({ type: [GroupStateSchema] })
  items!: GroupStateSchema[];

  @ApiPropertyOptional({ description: 'Pass back as `cursor` for the next page; absent on the last' })
  nextCursor?: string;
}
