export * from './kanban-transport';
export * from './control-channel.interface';
