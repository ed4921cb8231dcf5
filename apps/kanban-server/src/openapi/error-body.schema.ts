import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { API_ERROR_STATUS } from './api-error-codes';

@ApiSchema({ name: 'FieldError' })
export class FieldErrorSchema {
  @ApiProperty({ example: 'priority' })
  field!: string;

  @ApiProperty({ example: 'must be one of high, normal, low' })
  message!: string;
}

/** The body of every error answer (ErrorBody in the library), whoever raised the error. */
@ApiSchema({ name: 'ErrorBody', description: 'Every error answer. Branch on `code`, never on `message`.' })
export class ErrorBodySchema {
  @ApiProperty({ type: 'integer', example: 409 })
  statusCode!: number;

  @ApiProperty({ description: 'The reason phrase of the status', example: 'Conflict' })
  error!: string;

  @ApiProperty({ enum: [...API_ERROR_STATUS.keys()], enumName: 'ErrorCode', description: 'Stable and machine-readable' })
  code!: string;

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'For people; a 400 for bad input lists one line per field' })
  message!: string | string[];

  @ApiPropertyOptional({ type: [FieldErrorSchema], description: 'On `validation_failed`: every offending field' })
  fields?: FieldErrorSchema[];
}
