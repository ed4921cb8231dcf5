import { ExitCode } from '../exit-codes.constants';
import { renderFields } from '../output';
import type { Command } from './command.interface';

/** Terminus's document: `details` holds every indicator, `{status, ...figures}`. */
interface HealthDocument {
  status: string;
  details?: Record<string, { status: string; [figure: string]: unknown }>;
}

function figures(indicator: Record<string, unknown>): string {
  return Object.entries(indicator)
    .filter(([key]) => key !== 'status')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

export const healthCommand: Command = {
  words: ['health'],
  summary: "the server's health: broker, queue and workers (exit 4 when down)",
  usage: '',
  options: {},
  async run({ api, out, input }) {
    input.noPositionals();
    const { status, body } = await api.request<HealthDocument>('GET', '/health', { acceptStatuses: [503] });
    out.result(body, () =>
      renderFields([['status', body.status], ...Object.entries(body.details ?? {}).map(([name, indicator]): [string, string] => [name, `${indicator.status}  ${figures(indicator)}`])]),
    );
    return status === 200 ? ExitCode.ok : ExitCode.unavailable;
  },
};
