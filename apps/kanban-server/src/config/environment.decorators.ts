import { applyDecorators } from '@nestjs/common';
import { Expose, Transform, type TransformFnParams } from 'class-transformer';
import { IsBoolean, IsInt, IsNumber, IsOptional, IsPositive, IsString, Matches, Max, Min, MinLength } from 'class-validator';

/** An empty variable (`KANBAN_API_TOKEN=` in a compose file) means "not set". */
function blankToUndefined({ value }: TransformFnParams): unknown {
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

/** Only plain digits become numbers, so `1e3`, `0x10` or `12abc` are reported rather than guessed at. */
function digitsToInteger(params: TransformFnParams): unknown {
  const value = blankToUndefined(params);
  return typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
}

/** Only plain decimals become numbers (`2.5`), so `1e3`, `Infinity` or `fast` are reported rather than guessed at. */
function decimalToNumber(params: TransformFnParams): unknown {
  const value = blankToUndefined(params);
  return typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
}

/** Only `true` and `false` become booleans. */
function wordToBoolean(params: TransformFnParams): unknown {
  const value = blankToUndefined(params);
  if (typeof value !== 'string') return value;
  const word = value.trim();
  return word === 'true' ? true : word === 'false' ? false : value;
}

/** An optional variable holding a number above 0, fractions allowed. */
export function PositiveNumberVariable(): PropertyDecorator {
  const message = 'must be a number above 0 (digits, an optional decimal point)';
  return applyDecorators(
    Expose(),
    Transform(decimalToNumber),
    IsOptional(),
    IsNumber({ allowNaN: false, allowInfinity: false }, { message: ({ property }) => `${property} ${message}` }),
    IsPositive({ message: ({ property }) => `${property} ${message}` }),
  );
}

/** An optional variable holding `true` or `false`. */
export function BooleanVariable(): PropertyDecorator {
  return applyDecorators(Expose(), Transform(wordToBoolean), IsOptional(), IsBoolean({ message: ({ property }) => `${property} must be true or false` }));
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
