import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { KANBAN_HANDLER_METADATA } from '../kanban.constants';
import type { KanbanHandlerOptions } from './kanban-handler.decorator';

@Injectable()
export class KanbanHandlerMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getHandlerOptions(target: (...args: never[]) => unknown): KanbanHandlerOptions | undefined {
    return this.reflector.get<KanbanHandlerOptions | undefined>(KANBAN_HANDLER_METADATA, target);
  }
}
