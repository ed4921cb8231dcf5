import type { KanbanApiClient } from '../http';
import { cellText, formatTime, renderTable } from '../output';

/** `GET /dead-letters/:id`. */
export interface DeadLetter {
  id: string;
  priority: string;
  domain: string;
  item?: { id: string; payload: unknown; deadline: number; attempts?: number; headers?: Record<string, string> };
  raw?: string;
  reason: string;
  error?: string;
  attempts: number;
  deadLetteredAt: number;
  broker: string;
}

/** `GET /dead-letters`. */
export interface DeadLetterPage {
  items: DeadLetter[];
  nextCursor?: string;
}

export interface DeadLetterFilter {
  domain?: string;
  reason?: string;
}

/** The largest page the server hands out (`DEAD_LETTER_MAX_LIMIT`): fewest round trips for `--all`. */
export const DEAD_LETTER_PAGE_LIMIT = 1_000;

export function deadLettersTable(letters: DeadLetter[]): string {
  if (letters.length === 0) return 'no dead letters';
  return renderTable(
    [{ header: 'ID' }, { header: 'DOMAIN' }, { header: 'PRIORITY' }, { header: 'REASON' }, { header: 'ATTEMPTS', align: 'right' }, { header: 'DEAD-LETTERED' }, { header: 'ERROR' }],
    letters.map((d) => [d.id, d.domain, d.priority, d.reason, String(d.attempts), formatTime(d.deadLetteredAt), cellText(d.error)]),
  );
}

/** Every dead letter matching `filter`, page after page, oldest first. */
export async function allDeadLetters(api: KanbanApiClient, filter: DeadLetterFilter): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<DeadLetterPage>('/dead-letters', { query: { ...filter, limit: DEAD_LETTER_PAGE_LIMIT, cursor } });
    letters.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return letters;
}
