import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { KanbanExceptionFilter } from '@tps/kanban';

@Module({ providers: [{ provide: APP_FILTER, useClass: KanbanExceptionFilter }] })
export class KanbanErrorsModule {}
