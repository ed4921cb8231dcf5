import type { ValidationError } from 'class-validator';
import type { FieldError } from '@tps/kanban';

/** class-validator's message for an unknown property, replaced by one in the same voice as the others. */
const WHITELIST_CONSTRAINT = 'whitelistValidation';

/**
 * Flattens class-validator's tree into `{field, message}` pairs, one per broken rule, with dotted
 * paths for nested properties. Messages are written without the field name, as the library's are.
 */
export function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
      field,
      message: constraint === WHITELIST_CONSTRAINT ? 'is not an accepted field' : message.replace(new RegExp(`^${error.property} `), ''),
    }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}
