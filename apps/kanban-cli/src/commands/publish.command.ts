import type { Command } from './command.interface';
import { DEFAULT_DEADLINE_MS, PAYLOAD_OPTIONS, readPayload } from './payload-input';

interface PublishReceipt {
  id: string;
  broker: string;
  duplicate: boolean;
}

function headers(pairs: string[], usage: (message: string) => Error): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw usage(`--header takes name=value, not ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

export const publishCommand: Command = {
  words: ['publish'],
  summary: 'publish one work item; prints its id and the broker that holds it',
  usage: '--domain <domain> [--priority high|normal|low] [--group <group>] [--payload <json> | --payload-file <path>] [--deadline-ms <ms>]',
  description: 'The server answers once a broker holds the item durably. Reuse --idempotency-key when retrying a publish whose outcome you did not see.',
  options: {
    domain: { type: 'string', value: '<domain>', description: "the queue's domain (required)" },
    priority: { type: 'string', value: '<priority>', description: 'high, normal or low (default normal)' },
    group: { type: 'string', value: '<group>', description: 'the tenant the item belongs to, for fair share within the domain (default: the default group)' },
    ...PAYLOAD_OPTIONS,
    'deadline-ms': { type: 'string', value: '<ms>', description: `deadline from now (default ${DEFAULT_DEADLINE_MS}, an hour)` },
    'idempotency-key': { type: 'string', value: '<key>', description: 'publishes with the same key inside the dedup window become one item' },
    header: { type: 'string', multiple: true, value: '<name=value>', description: 'a header carried with the item; repeatable' },
  },
  async run({ api, out, input, io }) {
    input.noPositionals();
    const body = {
      priority: input.string('priority') ?? 'normal',
      domain: input.requiredString('domain'),
      group: input.string('group'),
      payload: await readPayload(input, io),
      deadlineMs: input.integer('deadline-ms', 1) ?? DEFAULT_DEADLINE_MS,
      idempotencyKey: input.string('idempotency-key'),
      headers: headers(input.strings('header'), (message) => input.usage(message)),
    };
    const receipt = await api.post<PublishReceipt>('/work', body);
    out.result(receipt, () => `${receipt.id}  ${receipt.broker}${receipt.duplicate ? '  duplicate: an item with this idempotency key was already published' : ''}`);
  },
};
