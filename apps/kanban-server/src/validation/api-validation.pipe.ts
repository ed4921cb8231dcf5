import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { validationErrorBody } from '@tps/kanban';
import { fieldErrors } from './field-errors';
import { jsonValueProperties } from './json-value.decorator';

/** Stands in for a `@JsonValue()` property during validation: present, and no work for the transformer. */
const STAND_IN = null;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The global ValidationPipe (whitelist, forbidNonWhitelisted, transform) whose 400 lists every bad
 * field as `fields: [{field, message}]`, the same shape as the library's KanbanValidationError.
 * Properties marked `@JsonValue()` bypass class-transformer and come back untouched.
 */
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: true,
      exceptionFactory: (errors) => new BadRequestException(validationErrorBody(fieldErrors(errors))),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const properties = jsonValueProperties(metadata.metatype);
    if (properties.length === 0 || !isPlainObject(value)) return super.transform(value, metadata);
    const held = new Map<string, unknown>();
    const shielded: Record<string, unknown> = { ...value };
    for (const property of properties) {
      if (!Object.hasOwn(value, property) || value[property] === undefined) continue;
      held.set(property, value[property]);
      shielded[property] = STAND_IN;
    }
    const dto = (await super.transform(shielded, metadata)) as Record<string, unknown>;
    for (const [property, original] of held) dto[property] = original;
    return dto;
  }
}
