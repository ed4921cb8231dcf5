import { applyDecorators } from '@nestjs/common';
import { Expose, Transform, type TransformFnParams } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';

/** An empty variable (`KANBAN_API_TOKEN=` in a compose file) means "not set". */
function blankToUndefined({ value }: TransformFnParams): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

/** Only plain digits become numbers, so `1e3`, `0x10` or `12abc` are reported rather than guessed at. */
function digitsToInteger(params: TransformFnParams): unknown {
  const value = blankToUndefined(params);
  return typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
}

/** An optional variable holding an integer in [min, max]. */
export function IntegerVariable(min: number, max = Number.MAX_SAFE_INTEGER): PropertyDecorator {
  const message = max === Number.MAX_SAFE_INTEGER ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`;
  return applyDecorators(
    Expose(),
    Transform(digitsToInteger),
    IsOptional(),
    IsInt({ message: ({ property }) => `${property} ${message}` }),
    Min(min, { message: ({ property }) => `${property} ${message}` }),
    Max(max, { message: ({ property }) => `${property} ${message}` }),
  );
}

/** An optional string variable matching `pattern`; `rule` says in words what it must be. */
export function StringVariable(pattern: RegExp, rule: string, minLength = 1): PropertyDecorator {
  return applyDecorators(
    Expose(),
    Transform(blankToUndefined),
    IsOptional(),
    IsString({ message: ({ property }) => `${property} ${rule}` }),
    MinLength(minLength, { message: ({ property }) => `${property} ${rule}` }),
    Matches(pattern, { message: ({ property }) => `${property} ${rule}` }),
  );
}
