import { IsNotEmpty, IsString } from 'class-validator';
import { IsKanbanDomain } from '../../validation';

/** Identifies the delivery being settled: the lease returned by the pull fences out stale holders. */
export class SettleWorkDto {
  @IsKanbanDomain()
  domain!: string;

  @IsString({ message: 'must be the lease returned with the pulled item' })
  @IsNotEmpty({ message: 'must be the lease returned with the pulled item' })
  lease!: string;
}
