import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ErrorBodySchema } from './error-body.schema';
import { SESSION_COOKIE } from '../auth';
import { documentMutationRefusals } from './mutation-refusals';
import { BEARER_SCHEME, OPENAPI_DOCS_PATH, OPENAPI_JSON_PATH, SESSION_SCHEME } from './openapi.constants';

const API_TITLE = 'TPS Kanban';
const API_VERSION = '1';
const API_DESCRIPTION =
  'A pull-based work queue: producers publish, workers pull, then ack, nack, retry or extend with the lease they got. ' +
  'With KANBAN_API_TOKEN set, mutating routes and the dead-letter queue need `Authorization: Bearer <token>` or the dashboard session cookie; ' +
  'the read-only token (KANBAN_READONLY_TOKEN) is refused every mutation, and a mutation made with the cookie needs its CSRF header. ' +
  'Every error answers with the ErrorBody schema; branch on its `code`.';

/** The OpenAPI 3 document of the app's routes, from their decorators. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle(API_TITLE)
    .setVersion(API_VERSION)
    .setDescription(API_DESCRIPTION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'KANBAN_API_TOKEN, or KANBAN_READONLY_TOKEN for reads' }, BEARER_SCHEME)
    .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', description: 'The dashboard session from POST /dashboard/session; a mutation also needs its CSRF header' }, SESSION_SCHEME)
    .build();
  return documentMutationRefusals(SwaggerModule.createDocument(app, config, { extraModels: [ErrorBodySchema] }));
}

/**
 * Serves the document at `/openapi.json` and the reference page at `/docs`, from swagger-ui's
 * assets installed with the server; the page embeds the document, so it fetches nothing else.
 * Call after the host allowlist is in place: these routes answer only the names every route does.
 */
export function useOpenApi(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_DOCS_PATH, app, () => createOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    raw: ['json'],
    customSiteTitle: `${API_TITLE} API`,
    // Swagger UI would otherwise send the document to validator.swagger.io for its badge.
    swaggerOptions: { validatorUrl: null },
  });
}
