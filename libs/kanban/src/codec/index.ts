export * from './item-id';
export * from './item-codec';
