import { IsInt, Min } from 'class-validator';

/** `POST /coordinator/workers`; the library caps count at maxWorkers. */
export class AdjustWorkersDto {
  @IsInt({ message: 'must be a non-negative integer' })
  @Min(0, { message: 'must be a non-negative integer' })
  count!: number;
}
