import { KanbanModule, KanbanQueue } from '@tps/kanban';

export const imported = { KanbanModule, KanbanQueue };
