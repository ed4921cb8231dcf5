import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString } from 'class-validator';
import { DOMAIN_PROPERTY } from '../../openapi/schemas';
import { IsKanbanDomain } from '../../validation';

/** Identifies the delivery being settled: the lease returned by the pull fences out stale holders. */
export class SettleWorkDto {
  @ApiProperty(DOMAIN_PROPERTY)
  @IsKanbanDomain()
  domain!: string;

  @ApiProperty({ minLength: 1, description: 'The lease returned with the pulled item' })
  @IsString({ message: 'must be the lease returned with the pulled item' })
  @IsNotEmpty({ message: 'must be the lease returned with the pulled item' })
  lease!: string;
}
