import { type ColumnDef, getCoreRowModel, getSortedRowModel, type SortingState, useReactTable } from '@tanstack/react-table';
import { useState } from 'react';

/** A sortable table over memoized data and columns, for the lists that need no filter or chooser. */
export function useSimpleTable<T>(data: readonly T[], columns: ColumnDef<T, any>[], initialSorting: SortingState = []) {
  const [sorting, setSorting] = useState<SortingState>(initialSorting);
  return useReactTable<T>({
    data: data as T[],
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    sortDescFirst: false,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
}
