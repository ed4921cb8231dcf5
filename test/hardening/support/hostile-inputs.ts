/**
 * Values that become part of a NATS subject or a RabbitMQ routing key if nothing stops them:
 * each would widen, split or smuggle a subject. None matches DOMAIN_PATTERN.
 */
export const HOSTILE_DOMAINS: ReadonlyArray<readonly [label: string, domain: string]> = [
  ['a dot', 'a.b'],
  ['a wildcard', '*'],
  ['a full wildcard', '>'],
  ['a wildcard after a valid token', 'orders.*'],
  ['a space', 'has space'],
  ['CR/LF with an injected PUB', 'x\r\nPUB kanban.high.injected 5\r\nhello'],
  ['a JetStream API subject', '$JS.API.STREAM.DELETE.KANBAN_HIGH_orders'],
  ['an empty string', ''],
  ['64 characters', `a${'b'.repeat(63)}`],
  ['non-ASCII', 'paiement-é'],
  ['a NUL byte', 'a\u0000b'],
  ['a tab', 'a\tb'],
  ['a trailing newline', 'orders\n'],
  ['upper case', 'Orders'],
  ['a one-dot leader (U+2024)', 'a\u2024b'],
  ['a fullwidth greater-than sign', '\uff1e'],
];

/** Dead-letter ids that a subject filter would read as wildcards or extra tokens. */
export const HOSTILE_IDS: ReadonlyArray<readonly [label: string, id: string]> = [
  ['a wildcard', '*'],
  ['a full wildcard', '>'],
  ['a dot', 'a.b'],
  ['a dot and a wildcard', '*.*'],
  ['CR/LF with an injected PUB', 'x\r\nPUB kanban.high.injected 5\r\nhello'],
];
