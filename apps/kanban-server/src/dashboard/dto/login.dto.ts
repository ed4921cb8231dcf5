import { IsString, Length } from 'class-validator';

/** Longer than any sensible token; bounds the work a login request can cause. */
const MAX_TOKEN_LENGTH = 4_096;

/** `POST /dashboard/session` */
export class LoginDto {
  @IsString({ message: 'must be the KANBAN_API_TOKEN or KANBAN_READONLY_TOKEN' })
  @Length(1, MAX_TOKEN_LENGTH, { message: 'must be the KANBAN_API_TOKEN or KANBAN_READONLY_TOKEN' })
  token!: string;
}
