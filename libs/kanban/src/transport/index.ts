export * from './kanban-transport';
export * from './control-channel.interface';
export * from './dead-letter-cursor';
export * from './lease-leadership.interface';
export * from './fleet-membership.interface';
