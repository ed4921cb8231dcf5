/** Where the server serves its OpenAPI document (no token: it describes the API, it holds no data). */
export const OPENAPI_JSON_PATH = 'openapi.json';
/** Where the server serves the reference page, rendered from assets it ships (no CDN). */
export const OPENAPI_DOCS_PATH = 'docs';
/** The security scheme of the routes that need `Authorization: Bearer <KANBAN_API_TOKEN>`. */
export const BEARER_SCHEME = 'bearer';
/** The security scheme of the dashboard's session cookie, accepted wherever the bearer token is. */
export const SESSION_SCHEME = 'session';
