import { DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_SERVER_URL } from '../http';
import type { OptionSpec } from './command.interface';

/** Options every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  url: { type: 'string', value: '<url>', description: `the server (default: KANBAN_URL, else ${DEFAULT_SERVER_URL})` },
  json: { type: 'boolean', description: 'print JSON for scripts instead of tables (errors as JSON on stderr)' },
  'timeout-ms': { type: 'string', value: '<ms>', description: `give up on a request after this long, exit code 4 (default ${DEFAULT_REQUEST_TIMEOUT_MS})` },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};
