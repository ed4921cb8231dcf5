import type { OpenAPIObject, OperationObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { CSRF_CODE, READ_METHODS, READ_ONLY_CODE } from '../auth';
import { statusOfApiErrorCode } from './api-error-codes';
import { errorBodyWithCodes, errorDescription } from './api-errors.decorator';
import { BEARER_SCHEME } from './openapi.constants';

/** What the token guard answers a mutation it refuses: the read-only token, a session cookie without its CSRF header. */
const MUTATION_REFUSAL_CODES = [READ_ONLY_CODE, CSRF_CODE];

function isSecured(operation: OperationObject): boolean {
  return (operation.security ?? []).some((requirement) => BEARER_SCHEME in requirement);
}

function documentedCodes(response: ResponseObject | undefined): string[] {
  const schema = response?.content?.['application/json']?.schema as SchemaObject | undefined;
  return (schema?.allOf ?? []).flatMap((part): string[] => ((part as SchemaObject).properties?.code as SchemaObject | undefined)?.enum?.map(String) ?? []);
}

/**
 * Adds the guard's 403 refusals to every secured operation whose method the guard treats as a
 * mutation (READ_METHODS, shared with it). Done on the built document because a route's method is
 * known only once Nest has read all its decorators, in whatever order they were written.
 */
export function documentMutationRefusals(document: OpenAPIObject): OpenAPIObject {
  const status = String(statusOfApiErrorCode(READ_ONLY_CODE));
  for (const item of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(item) as Array<[string, OperationObject]>) {
      if (READ_METHODS.has(method.toUpperCase()) || !isSecured(operation)) continue;
      const codes = [...new Set([...documentedCodes(operation.responses[status] as ResponseObject | undefined), ...MUTATION_REFUSAL_CODES])];
      operation.responses[status] = { description: errorDescription(codes), content: { 'application/json': { schema: errorBodyWithCodes(codes) } } };
    }
  }
  return document;
}
