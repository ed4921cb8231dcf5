import { applyDecorators } from '@nestjs/common';
import { Allow, ValidateBy } from 'class-validator';

const JSON_VALUE_PROPERTIES = 'kanban-server:json-value-properties';

/**
 * Marks a property that holds any JSON value (a work item's payload). `ApiValidationPipe` keeps its
 * value away from class-transformer and Nest's key stripping, which would recurse through deep
 * values, drop keys such as `constructor`, or throw on some shapes: the payload reaches the
 * queue byte for byte as the client sent it.
 */
export function JsonValue(options: { required: boolean }): PropertyDecorator {
  const mark: PropertyDecorator = (target, property) => {
    const existing = (Reflect.getMetadata(JSON_VALUE_PROPERTIES, target.constructor) as (string | symbol)[] | undefined) ?? [];
    Reflect.defineMetadata(JSON_VALUE_PROPERTIES, [...existing, property], target.constructor);
  };
  const presence = ValidateBy({
    name: 'isJsonValuePresent',
    validator: { validate: (value: unknown) => value !== undefined, defaultMessage: () => 'is required (any JSON value, null included)' },
  });
  return applyDecorators(mark, options.required ? presence : Allow());
}

/** Properties of `type` marked with `@JsonValue()`. */
export function jsonValueProperties(type: unknown): string[] {
  if (typeof type !== 'function') return [];
  const marked = (Reflect.getMetadata(JSON_VALUE_PROPERTIES, type) as (string | symbol)[] | undefined) ?? [];
  return marked.filter((p): p is string => typeof p === 'string');
}
