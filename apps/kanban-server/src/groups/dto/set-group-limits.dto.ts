import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, IsPositive, Min } from 'class-validator';
import type { GroupLimits } from '@tps/kanban';

const MAX_IN_FLIGHT_RULE = 'must be a positive integer';
const RATE_RULE = 'must be a finite number above 0';

/** `PUT /groups/:domain/:group/limits`; `{}` clears the group's limits back to the defaults. */
export class SetGroupLimitsDto implements GroupLimits {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'Items of the group leased at once, across the fleet' })
  @IsOptional()
  @IsInt({ message: MAX_IN_FLIGHT_RULE })
  @Min(1, { message: MAX_IN_FLIGHT_RULE })
  maxInFlight?: number;

  @ApiPropertyOptional({ type: 'number', exclusiveMinimum: true, minimum: 0, description: 'Items of the group handed out per second, across the fleet' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: RATE_RULE })
  @IsPositive({ message: RATE_RULE })
  ratePerSecond?: number;
}
