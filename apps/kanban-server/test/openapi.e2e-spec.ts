import { validate } from '@readme/openapi-parser';
import { KANBAN_ERROR_STATUS, codeOfStatus, internalErrorBody } from '@tps/kanban';
import { CsrfException } from '../src/auth/csrf.exception';
import { ReadOnlyException } from '../src/auth/read-only.exception';
import { RATE_LIMITED_CODE } from '../src/errors';
import { HostNotAllowedException } from '../src/http';
import { OPENAPI_DOCS_PATH, OPENAPI_JSON_PATH } from '../src/openapi';
import { startTestServer, type TestServer } from './support/test-server';

const TOKEN = 'openapi-token-0123456789abcdef';
const ALLOWED_HOST = 'kanban.internal';
/** Statuses the server answers with Nest's own HttpExceptions: bad JSON, no token, unknown route, body too large. */
const HTTP_EXCEPTION_STATUSES = [400, 401, 404, 413];
type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface Route {
  method: string;
  /** In OpenAPI form: `/work/{id}/ack`. */
  path: string;
}

interface OpenApiOperation {
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: {
    schemas: Record<string, { enum?: string[]; properties?: Record<string, { $ref?: string; allOf?: Array<{ $ref?: string }>; enum?: string[] }> }>;
    securitySchemes?: Record<string, unknown>;
  };
}

/** Express's route table as Nest registered it, less the routes that serve the document itself. */
function registeredRoutes(server: TestServer): Route[] {
  const stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> = server.app.getHttpAdapter().getInstance().router.stack;
  const ownPaths = (path: string): boolean => path === `/${OPENAPI_JSON_PATH}` || path === `/${OPENAPI_DOCS_PATH}` || path.startsWith(`/${OPENAPI_DOCS_PATH}/`);
  return stack.flatMap(({ route }) => (route ? Object.keys(route.methods).map((method) => ({ method, path: route.path.replace(/:(\w+)/g, '{$1}') })) : [])).filter((route) => !ownPaths(route.path));
}

/** The code of an exception class the server raises, as its body carries it. */
function codeOf(exception: { getResponse(): string | object }): string {
  return (exception.getResponse() as { code: string }).code;
}

/** The token guard's refusals of a mutation: the read-only token, a session cookie without its CSRF header. */
const MUTATION_REFUSAL_CODES = [codeOf(new ReadOnlyException()), codeOf(new CsrfException())];

/** Every code ApiExceptionFilter answers with: the library's errors, the 500, the rate limit, the host check, the token guard, Nest's HttpExceptions. */
function emittedErrorCodes(): string[] {
  return [
    ...KANBAN_ERROR_STATUS.map(([, answer]) => answer.code),
    internalErrorBody().code,
    RATE_LIMITED_CODE,
    codeOf(new HostNotAllowedException()),
    ...MUTATION_REFUSAL_CODES,
    ...HTTP_EXCEPTION_STATUSES.map(codeOfStatus),
  ];
}

/** The codes an operation documents for one status. */
function documentedCodes(operation: OpenApiOperation, status: string): string[] {
  const schema = operation.responses[status]?.content?.['application/json']?.schema as { allOf?: Array<{ properties?: { code?: { enum?: string[] } } }> } | undefined;
  return schema?.allOf?.flatMap((part) => part.properties?.code?.enum ?? []) ?? [];
}

interface JsonSchema {
  $ref?: string;
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
}

/** The fields of `value`, by path, that `schema` does not describe (following $ref, allOf and arrays). */
function undocumentedFields(document: OpenApiDocument, schema: JsonSchema, value: unknown, path = ''): string[] {
  if (schema.$ref) return undocumentedFields(document, document.components.schemas[schema.$ref.replace('#/components/schemas/', '')], value, path);
  if (schema.allOf) {
    const properties = Object.assign(
      {},
      ...schema.allOf.map((part) => (part.$ref ? (document.components.schemas[part.$ref.replace('#/components/schemas/', '')] as JsonSchema) : part).properties ?? {}),
    );
    return undocumentedFields(document, { properties }, value, path);
  }
  if (Array.isArray(value)) return schema.items ? value.flatMap((element, index) => undocumentedFields(document, schema.items!, element, `${path}[${index}]`)) : [];
  if (value === null || typeof value !== 'object' || !schema.properties) return [];
  return Object.entries(value).flatMap(([key, field]) => {
    const fieldSchema = schema.properties![key];
    return fieldSchema ? undocumentedFields(document, fieldSchema, field, `${path}.${key}`) : [`${path}.${key}`];
  });
}

function concrete(path: string): string {
  return path.replace(/\{\w+\}/g, 'x');
}

describe('OpenAPI document and reference page', () => {
  let server: TestServer;
  let document: OpenApiDocument;

  beforeAll(async () => {
    server = await startTestServer({ KANBAN_API_TOKEN: TOKEN, KANBAN_ALLOWED_HOSTS: ALLOWED_HOST }, 'embedded', false);
    document = (await server.http().get(`/${OPENAPI_JSON_PATH}`).expect(200)).body;
  });

  afterAll(async () => {
    await server.close();
  });

  it('serves a valid OpenAPI 3 document without a token', async () => {
    const result = await validate(structuredClone(document) as never);

    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(document.openapi).toMatch(/^3\./);
  });

  it('describes every route the server registers, with its method', () => {
    const routes = registeredRoutes(server);

    const missing = routes.filter(({ method, path }) => document.paths[path]?.[method as HttpMethod] === undefined);

    expect(routes.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('lists every error code the server can answer with in the error body schema', () => {
    const code = document.components.schemas.ErrorBody?.properties?.code;
    const ref = code?.$ref ?? code?.allOf?.[0]?.$ref;
    const documented = (ref ? document.components.schemas[ref.replace('#/components/schemas/', '')] : code)?.enum ?? [];

    expect(emittedErrorCodes().filter((code) => !documented.includes(code))).toEqual([]);
  });

  it('gives every operation its error answers in the common error body', () => {
    const operations = Object.values(document.paths).flatMap((item) => Object.values(item));

    const withoutErrors = operations.filter((operation) => !['403', '429', '500'].every((status) => operation.responses[status] !== undefined));

    expect(operations.length).toBeGreaterThan(10);
    expect(withoutErrors).toEqual([]);
  });

  it('marks exactly the routes that answer 401 without a token as bearer-secured, with their 401 answer', async () => {
    const routes = registeredRoutes(server);

    const mismatched: string[] = [];
    for (const { method, path } of routes) {
      const response = await server.http()[method as HttpMethod](concrete(path)).send({});
      const operation = document.paths[path]?.[method as HttpMethod];
      const secured = (operation?.security ?? []).some((requirement) => 'bearer' in requirement) && operation?.responses['401'] !== undefined;
      if ((response.status === 401) !== secured) mismatched.push(`${method.toUpperCase()} ${path}: answered ${response.status}, documented ${secured ? 'secured' : 'open'}`);
    }

    expect(mismatched).toEqual([]);
    expect(document.components.securitySchemes).toHaveProperty('bearer');
  });

  it('documents the 403 refusals of the read-only token and a missing CSRF header on every secured mutation', () => {
    const mutations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method, operation]) => method !== 'get' && (operation.security ?? []).some((requirement) => 'bearer' in requirement))
        .map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, codes: documentedCodes(operation, '403') })),
    );

    const missing = mutations.filter(({ codes }) => !MUTATION_REFUSAL_CODES.every((code) => codes.includes(code))).map(({ route }) => route);

    expect(mutations.length).toBeGreaterThan(5);
    expect(missing).toEqual([]);
    expect(document.components.securitySchemes).toHaveProperty('session');
  });

  it("answers the dashboard overview with only fields its schema documents, the broker's detail too (NATS gives one)", async () => {
    // Arrange
    const nats = await startTestServer({ KANBAN_API_TOKEN: TOKEN }, 'nats', false);
    try {
      // Act
      const overview = (await nats.http().get('/dashboard/api/overview').set('Authorization', `Bearer ${TOKEN}`).expect(200)).body;
      const schema = document.paths['/dashboard/api/overview'].get!.responses['200'].content!['application/json'].schema as JsonSchema;

      // Assert
      expect(overview.broker.detail).toEqual(expect.any(String));
      expect(undocumentedFields(document, schema, overview)).toEqual([]);
    } finally {
      await nats.close();
    }
  });

  it('serves the reference page as HTML whose scripts and styles all come from the server itself', async () => {
    const page = await server.http().get(`/${OPENAPI_DOCS_PATH}`).expect(200);
    const assets = [...page.text.matchAll(/\b(?:src|href)=["']([^"']+)["']/g)].map(([, url]) => url);

    const answers = await Promise.all(assets.map(async (url) => ({ url, status: (await server.http().get(new URL(url, `${server.url}/${OPENAPI_DOCS_PATH}`).pathname)).status })));

    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(assets.filter((url) => /^(?:[a-z]+:)?\/\//i.test(url))).toEqual([]);
    expect(answers.filter(({ status }) => status !== 200)).toEqual([]);
    expect(assets.some((url) => url.endsWith('swagger-ui-init.js'))).toBe(true);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });

  it.each([`/${OPENAPI_JSON_PATH}`, `/${OPENAPI_DOCS_PATH}`])('refuses %s for a Host name it does not answer to', async (path) => {
    const response = await server.http().get(path).set('Host', 'attacker.example');

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'host_not_allowed' });
  });
});
