import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiResponse, getSchemaPath, type SchemaObject } from '@nestjs/swagger';
import { internalErrorBody } from '@tps/kanban';
import { RATE_LIMITED_CODE } from '../errors/api-exception.filter';
import { HOST_NOT_ALLOWED_CODE } from '../http/host-not-allowed.exception';
import { statusOfApiErrorCode } from './api-error-codes';
import { BEARER_SCHEME, SESSION_SCHEME } from './openapi.constants';
import { ErrorBodySchema } from './error-body.schema';

/** What any route can answer, before or after its handler: a Host it does not serve, too many requests, a fault of the server. */
const EVERY_ROUTE_ERRORS = [HOST_NOT_ALLOWED_CODE, RATE_LIMITED_CODE, internalErrorBody().code];

/** What a route with a JSON body can answer about the body itself: invalid fields, unparsable JSON, over the size limit. */
export const JSON_BODY_ERRORS = ['validation_failed', 'bad_request', 'payload_too_large'] as const;

const RETRY_AFTER_HEADER = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } };

/** The error body narrowed to the given codes. */
export function errorBodyWithCodes(codes: string[]): SchemaObject {
  return { allOf: [{ $ref: getSchemaPath(ErrorBodySchema) }, { type: 'object', properties: { code: { type: 'string', enum: codes } } }] };
}

/** How an error answer describes itself: the codes it can carry. */
export function errorDescription(codes: string[]): string {
  return codes.map((code) => `\`${code}\``).join(', ');
}

function errorResponse(status: number, codes: string[]): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status,
    description: errorDescription(codes),
    schema: errorBodyWithCodes(codes),
    ...(status === 429 ? { headers: RETRY_AFTER_HEADER } : {}),
  });
}

/**
 * Documents the error answers of a route in the common error body, one response per status
 * listing its codes; the answers every route can give are added. Give all of a route's codes
 * in one call: a second call would replace the responses of the statuses it shares.
 * @throws Error at start-up for a code the server never answers with
 */
export function ApiErrors(...codes: string[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, string[]>();
  for (const code of new Set([...codes, ...EVERY_ROUTE_ERRORS])) {
    const status = statusOfApiErrorCode(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return applyDecorators(...[...byStatus].map(([status, statusCodes]) => errorResponse(status, statusCodes)));
}

/**
 * Documents that the route needs `Authorization: Bearer <token>` or the dashboard's session cookie
 * when the server has a token, and its 401. The 403 refusals of a mutation (`read_only`, `csrf`)
 * depend on the route's method, so documentMutationRefusals adds them once the routes are known.
 */
export function ApiTokenRequired(): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiBearerAuth(BEARER_SCHEME), ApiCookieAuth(SESSION_SCHEME), errorResponse(statusOfApiErrorCode('unauthorized'), ['unauthorized']));
}
