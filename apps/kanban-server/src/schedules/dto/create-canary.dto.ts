import type { CanaryResult } from '@tps/kanban';
import { IsKanbanDomain, JsonValue } from '../../validation';

/** `POST /schedules/canary`: one high-priority item whose outcome and latency show in the coordinator's health. */
export class CreateCanaryDto {
  @IsKanbanDomain()
  domain!: CanaryResult['domain'];

  /** @default null */
  @JsonValue({ required: false })
  payload?: unknown;
}
