/** Longest cell of free text (an error message) in a table; `show` prints it whole. */
const MAX_CELL_TEXT = 60;

export function formatTime(epochMs: number | undefined | null): string {
  return epochMs === undefined || epochMs === null ? '-' : new Date(epochMs).toISOString();
}

export function formatAge(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

/** One line, cut to fit a table cell. */
export function cellText(text: string | undefined): string {
  if (!text) return '-';
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_CELL_TEXT ? `${line.slice(0, MAX_CELL_TEXT - 1)}…` : line;
}
