export * from './api-validation.pipe';
export * from './field-errors';
export * from './json-value.decorator';
export * from './kanban-field.decorators';
