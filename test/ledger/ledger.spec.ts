import { Ledger } from './ledger';

describe('Ledger', () => {
  it('computes lost, unexpected, duplicates and recovered from what it recorded', () => {
    // Arrange
    const ledger = new Ledger();
    for (const key of ['a', 'b', 'c', 'd', 'e']) ledger.attempt(key);
    ledger.acknowledge('a', 'nats');
    ledger.acknowledge('b', 'rabbitmq');
    ledger.acknowledge('c', 'outbox');
    ledger.reject('d', 'BrokerUnavailableError');

    // Act
    ledger.process('a', 1);
    ledger.process('a', 2);
    ledger.deadLetter('b', 'stalled');
    ledger.process('d', 1);
    ledger.process('e', 1);
    ledger.process('x', 1);

    // Assert
    expect(ledger.summary()).toEqual({
      attempted: 5,
      acknowledged: 3,
      byBroker: { nats: 1, rabbitmq: 1, outbox: 1 },
      rejected: 1,
      processed: 4,
      processings: 5,
      deadLettered: 1,
      acknowledgedDeadLettered: 1,
      duplicates: 1,
      lost: 1,
      unexpected: 1,
      recovered: 2,
    });
    expect(ledger.lost()).toEqual(['c']);
    expect(ledger.unexpected()).toEqual(['x']);
    expect(ledger.recovered().sort()).toEqual(['d', 'e']);
    expect(ledger.attemptsOf('a')).toEqual([1, 2]);
    expect(ledger.duplicatesByBroker()).toEqual({ nats: 1 });
    expect(ledger.repeatedAttempts()).toBe(0);
    expect(ledger.duplicatedKeys()).toEqual(['a']);
    expect(ledger.firstProcessedAtOf('a')).toBeLessThanOrEqual(ledger.firstProcessedAtOf('e') as number);
    expect(ledger.deadLetterReasonsOf('b')).toEqual(['stalled']);
    expect(ledger.acknowledgedDeadLettered()).toEqual(['b']);
  });

  it('names acknowledged keys that were dead-lettered, even when processed too, which lost does not count', () => {
    // Arrange
    const ledger = new Ledger();
    for (const key of ['a', 'b', 'c', 'd']) ledger.attempt(key);
    for (const key of ['a', 'b', 'c']) ledger.acknowledge(key, 'nats');
    ledger.reject('d', 'BrokerUnavailableError');

    // Act
    ledger.process('a', 1);
    ledger.process('b', 1);
    ledger.deadLetter('b', 'stalled');
    ledger.deadLetter('c', 'max_attempts');
    ledger.deadLetter('d', 'max_attempts');

    // Assert
    expect(ledger.acknowledgedDeadLettered().sort()).toEqual(['b', 'c']);
    expect(ledger.summary()).toMatchObject({ acknowledged: 3, processed: 2, deadLettered: 3, acknowledgedDeadLettered: 2, lost: 0 });
  });

  it('counts an acknowledged key as outstanding until it is processed or dead-lettered', () => {
    const ledger = new Ledger();
    ledger.attempt('a');
    ledger.acknowledge('a', 'nats');
    const before = ledger.outstanding();

    ledger.process('a', 1);

    expect(before).toEqual(['a']);
    expect(ledger.outstanding()).toEqual([]);
  });

  it('prints its figures and extra ones on one line', () => {
    const ledger = new Ledger();
    ledger.attempt('a');
    ledger.acknowledge('a', 'nats');
    ledger.process('a', 1);

    const line = ledger.line('chaos', { switchOverMs: 12 });

    expect(line).toBe(
      'chaos: attempted=1 acknowledged=1 rejected=0 processed=1 processings=1 deadLettered=0 acknowledgedDeadLettered=0 duplicates=0 lost=0 unexpected=0 recovered=0 switchOverMs=12 receipts[nats=1]',
    );
    expect(line).not.toContain('\n');
  });
});
