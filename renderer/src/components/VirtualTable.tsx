import { flexRender, type Row, type Table } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';

export const ROW_HEIGHT = 26;

interface Props<T> {
  readonly table: Table<T>;
  readonly testId: string;
  /** data-testid of each row: `${testId}-row-${rowKey(row)}` */
  readonly rowKey: (row: T) => string | number;
  readonly onRowClick?: (row: T) => void;
  readonly selectedKey?: string | number | undefined;
  readonly className?: string;
  readonly rowClassName?: (row: T) => string | undefined;
  readonly empty?: string;
}

/**
 * A tanstack table whose body renders only the rows in view (plus overscan): 10^5 members scroll as
 * smoothly as 10. Spacer rows above and below keep the scrollbar true to the full height.
 */
export function VirtualTable<T>({ table, testId, rowKey, onRowClick, selectedKey, className, rowClassName, empty }: Props<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const rows = table.getRowModel().rows;
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const top = items[0]?.start ?? 0;
  const bottom = items.length > 0 ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  const columns = table.getVisibleLeafColumns().length;

  return (
    <div ref={scrollRef} className={`table-scroll ${className ?? ''}`} data-testid={testId}>
      <table className="data-table">
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                const canSort = header.column.getCanSort();
                return (
                  <th
                    key={header.id}
                    className={canSort ? 'sortable' : undefined}
                    aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}
                    data-testid={`${testId}-header-${header.column.id}`}
                    onClick={canSort ? header.column.getToggleSortingHandler() : undefined}
                    tabIndex={canSort ? 0 : undefined}
                    onKeyDown={
                      canSort
                        ? (e) => {
                            if (e.key !== 'Enter' && e.key !== ' ') return;
                            e.preventDefault();
                            header.column.toggleSorting();
                          }
                        : undefined
                    }
                  >
                    {flexRender(header.column.columnDef.header, header.getContext())}
                    {sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : ''}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {top > 0 && (
            <tr aria-hidden="true">
              <td colSpan={columns} style={{ height: top }} className="spacer" />
            </tr>
          )}
          {items.map((item) => {
            const row = rows[item.index] as Row<T>;
            const key = rowKey(row.original);
            const selected = selectedKey !== undefined && key === selectedKey;
            return (
              <tr
                key={row.id}
                data-testid={`${testId}-row-${key}`}
                className={[onRowClick ? 'clickable' : '', selected ? 'selected' : '', rowClassName?.(row.original) ?? ''].join(' ').trim() || undefined}
                onClick={onRowClick ? () => onRowClick(row.original) : undefined}
                aria-selected={onRowClick ? selected : undefined}
              >
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
                ))}
              </tr>
            );
          })}
          {bottom > 0 && (
            <tr aria-hidden="true">
              <td colSpan={columns} style={{ height: bottom }} className="spacer" />
            </tr>
          )}
          {rows.length === 0 && (
            <tr>
              <td colSpan={columns} className="empty">
                {empty ?? 'Nothing to show'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
