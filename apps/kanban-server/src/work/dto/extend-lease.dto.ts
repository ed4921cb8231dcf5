import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_LEASE_MS } from '../work.constants';
import { SettleWorkDto } from './settle-work.dto';

export class ExtendLeaseDto extends SettleWorkDto {
  /** New lease length from now. @default the processing timeout plus grace, as on pull */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LEASE_MS, description: 'New lease length from now, ms; default the lease a pull hands out' })
  @IsOptional()
  @IsInt({ message: `must be an integer from 1 to ${MAX_LEASE_MS}` })
  @Min(1, { message: `must be an integer from 1 to ${MAX_LEASE_MS}` })
  @Max(MAX_LEASE_MS, { message: `must be an integer from 1 to ${MAX_LEASE_MS}` })
  leaseMs?: number;
}
