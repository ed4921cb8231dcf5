import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Min } from 'class-validator';

/** `POST /coordinator/workers`; the library caps count at maxWorkers. */
export class AdjustWorkersDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Workers per handler; the library caps it at maxWorkers' })
  @IsInt({ message: 'must be a non-negative integer' })
  @Min(0, { message: 'must be a non-negative integer' })
  count!: number;
}
