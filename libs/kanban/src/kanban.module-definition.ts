import { ConfigurableModuleBuilder, type Type } from '@nestjs/common';
import type { Registry } from 'prom-client';
import type { KanbanModuleOptions } from './interfaces/kanban-options.interface';
import type { KanbanTransport } from './transport/kanban-transport';

/** Module-level choices that are classes or instances rather than plain options. */
export interface KanbanModuleExtras {
  /** A transport class of your own, constructed by DI (it may inject KANBAN_OPTIONS); replaces the built-in choice. */
  transport?: Type<KanbanTransport>;
  /** Registry for kanban's metrics, shared by every app built from this definition. @default a new registry for each app (never prom-client's global one) */
  registry?: Registry;
}

export const {
  ConfigurableModuleClass: KanbanConfigurableModule,
  MODULE_OPTIONS_TOKEN: KANBAN_MODULE_OPTIONS,
  OPTIONS_TYPE: KANBAN_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: KANBAN_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<KanbanModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<KanbanModuleExtras>({}, (definition) => definition)
  .build();
