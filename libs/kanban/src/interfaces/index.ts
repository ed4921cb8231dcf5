export * from './work-item.interface';
export * from './dead-letter.interface';
export * from './delivery.interface';
export * from './queue-depth.interface';
export * from './kanban-options.interface';
export * from './group.interface';
