import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { CanaryResult } from '@tps/kanban';
import { ANY_JSON_VALUE, DOMAIN_PROPERTY } from '../../openapi/schemas';
import { IsKanbanDomain, JsonValue } from '../../validation';

/** `POST /schedules/canary`: one high-priority item whose outcome and latency show in the coordinator's health. */
export class CreateCanaryDto {
  @ApiProperty(DOMAIN_PROPERTY)
  @IsKanbanDomain()
  domain!: CanaryResult['domain'];

  /** @default null */
  @ApiPropertyOptional({ ...ANY_JSON_VALUE, default: null })
  @JsonValue({ required: false })
  payload?: unknown;
}
