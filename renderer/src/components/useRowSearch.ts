import { useDeferredValue, useMemo, useState } from 'react';
import { searchIndex, type SearchCell, searchRows } from '../logic/rowSearch.js';

/**
 * The search box of a record list: the query as typed, and the rows matching it and `keep`. The index
 * is rebuilt only when the rows are refetched; the filtering runs on the deferred query, so typing
 * stays responsive while a long log is scanned. `cells` and `keep` must be stable (module level or
 * memoized), or every render rebuilds.
 */
export function useRowSearch<T>(rows: readonly T[], cells: (row: T) => readonly SearchCell[], keep: (row: T) => boolean) {
  const [query, setQuery] = useState('');
  const deferred = useDeferredValue(query);
  const index = useMemo(() => searchIndex(rows, cells), [rows, cells]);
  const found = useMemo(() => searchRows(index, deferred, keep), [index, deferred, keep]);
  return { query, setQuery, found };
}
