import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { MAX_NACK_REASON_LENGTH } from '../work.constants';
import { SettleWorkDto } from './settle-work.dto';

export class NackWorkDto extends SettleWorkDto {
  /** Why the worker gave up; kept with the dead letter. */
  @ApiProperty({ minLength: 1, maxLength: MAX_NACK_REASON_LENGTH, description: 'Why the worker gave up; kept with the dead letter' })
  @IsString({ message: `must be a string of 1 to ${MAX_NACK_REASON_LENGTH} characters` })
  @IsNotEmpty({ message: `must be a string of 1 to ${MAX_NACK_REASON_LENGTH} characters` })
  @MaxLength(MAX_NACK_REASON_LENGTH, { message: `must be a string of 1 to ${MAX_NACK_REASON_LENGTH} characters` })
  reason!: string;
}
