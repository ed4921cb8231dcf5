import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** Longer than any sensible token; bounds the work a login request can cause. */
const MAX_TOKEN_LENGTH = 4_096;

/** `POST /dashboard/session` */
export class LoginDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_TOKEN_LENGTH, description: 'KANBAN_API_TOKEN or KANBAN_READONLY_TOKEN' })
  @IsString({ message: 'must be the KANBAN_API_TOKEN or KANBAN_READONLY_TOKEN' })
  @Length(1, MAX_TOKEN_LENGTH, { message: 'must be the KANBAN_API_TOKEN or KANBAN_READONLY_TOKEN' })
  token!: string;
}
