import { pathSegment } from '../http';
import { formatTime, renderFields } from '../output';
import type { Command } from './command.interface';
import type { DeadLetter } from './dlq-views';

function details(letter: DeadLetter): string {
  const fields: [string, string][] = [
    ['id', letter.id],
    ['domain', letter.domain],
    ['priority', letter.priority],
    ['reason', letter.reason],
    ['error', letter.error ?? '-'],
    ['attempts', String(letter.attempts)],
    ['dead-lettered', formatTime(letter.deadLetteredAt)],
    ['broker', letter.broker],
  ];
  if (letter.item) fields.push(['deadline', formatTime(letter.item.deadline)], ['headers', JSON.stringify(letter.item.headers ?? {})]);
  const body = letter.item ? `payload:\n${JSON.stringify(letter.item.payload, null, 2)}` : `raw bytes (base64, not a kanban item):\n${letter.raw ?? ''}`;
  return `${renderFields(fields)}\n\n${body}`;
}

export const dlqShowCommand: Command = {
  words: ['dlq', 'show'],
  summary: 'one dead letter with its reason, error and payload',
  usage: '<id>',
  options: {},
  async run({ api, out, input }) {
    const id = input.onePositional('dead letter id');
    const letter = await api.get<DeadLetter>(`/dead-letters/${pathSegment(id, 'dead letter id', 'dlq show')}`);
    out.result(letter, () => details(letter));
  },
};
