import type { Command } from './command.interface';
import { DEFAULT_DEADLINE_MS, PAYLOAD_OPTIONS, readPayload } from './payload-input';

export const schedulesAddCommand: Command = {
  words: ['schedules', 'add'],
  summary: 'publish an item on an interval or a cron expression; prints the jobId',
  usage: '--domain <domain> (--every-ms <ms> | --cron <expression>) [--name <name>] [--priority <priority>] [--deadline-ms <ms>] [--payload <json>]',
  description: 'A schedule fires once per tick across the fleet. A name already taken is a conflict (exit 2).',
  options: {
    domain: { type: 'string', value: '<domain>', description: "the queue's domain (required)" },
    'every-ms': { type: 'string', value: '<ms>', description: 'an interval schedule: one tick every ms' },
    cron: { type: 'string', value: '<expression>', description: 'a cron schedule: five fields, or six with seconds' },
    name: { type: 'string', value: '<name>', description: 'a stable jobId (default: one the server makes up)' },
    priority: { type: 'string', value: '<priority>', description: 'high, normal or low (default normal)' },
    'deadline-ms': { type: 'string', value: '<ms>', description: `each item's deadline from its tick (default ${DEFAULT_DEADLINE_MS})` },
    ...PAYLOAD_OPTIONS,
    'when-busy': { type: 'string', value: 'skip|stretch', description: 'a tick while the queue is above its high watermark (default skip)' },
    'catch-up': { type: 'string', value: 'none|one|all', description: 'ticks missed while no instance could fire (default none)' },
  },
  async run({ api, out, input, io }) {
    input.noPositionals();
    const intervalMs = input.integer('every-ms', 1);
    const cron = input.string('cron');
    if ((intervalMs === undefined) === (cron === undefined)) throw input.usage('give exactly one of --every-ms and --cron');
    const body = {
      type: cron === undefined ? 'interval' : 'cron',
      priority: input.string('priority') ?? 'normal',
      domain: input.requiredString('domain'),
      intervalMs,
      cron,
      deadlineMs: input.integer('deadline-ms', 1) ?? DEFAULT_DEADLINE_MS,
      payload: await readPayload(input, io),
      name: input.string('name'),
      whenBusy: input.string('when-busy'),
      catchUp: input.string('catch-up'),
    };
    const { jobId } = await api.post<{ jobId: string }>('/schedules', body);
    out.result({ jobId }, () => jobId);
  },
};
