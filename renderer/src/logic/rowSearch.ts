/**
 * Free-text search over record rows (History, Audit). Each row's cells are lowered and joined once per
 * fetch, so a keystroke costs one substring scan per row and term: linear in the log, never a
 * comparison of rows against rows. Terms separated by spaces must all match, in any column.
 */
export type SearchCell = string | number | null | undefined;

export interface SearchIndex<T> {
  readonly rows: readonly T[];
  /** per row, its cells lowered and joined by a separator no typed term can contain */
  readonly texts: readonly string[];
}

const SEPARATOR = '\u0001';

export function searchIndex<T>(rows: readonly T[], cells: (row: T) => readonly SearchCell[]): SearchIndex<T> {
  return { rows, texts: rows.map((row) => cells(row).map((cell) => (cell === null || cell === undefined ? '' : String(cell).toLowerCase())).join(SEPARATOR)) };
}

export function searchTerms(query: string): string[] {
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter((term) => term !== '');
}

/** The rows holding every term of `query` and passing `keep` (the screen's own filters), in order. */
export function searchRows<T>(index: SearchIndex<T>, query: string, keep: (row: T) => boolean = () => true): T[] {
  const terms = searchTerms(query);
  const found: T[] = [];
  for (let i = 0; i < index.rows.length; i++) {
    const row = index.rows[i]!;
    const text = index.texts[i]!;
    if (keep(row) && terms.every((term) => text.includes(term))) found.push(row);
  }
  return found;
}

/** The distinct values of one field, sorted: the choices of a filter's drop-down. */
export function choices<T>(rows: readonly T[], value: (row: T) => string): string[] {
  return [...new Set(rows.map(value))].sort((a, b) => a.localeCompare(b));
}
