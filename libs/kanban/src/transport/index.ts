export * from './kanban-transport';
export * from './control-channel.interface';
export * from './dead-letter-cursor';
