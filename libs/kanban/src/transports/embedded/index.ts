export * from './embedded.transport';
export * from './embedded.constants';
export { EMBEDDED_DEAD_LETTERS_TABLE, EMBEDDED_ITEMS_TABLE, EMBEDDED_SCHEMA_VERSION } from './embedded-schema';
