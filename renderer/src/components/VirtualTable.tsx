import { flexRender, type Row, type Table } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, useLayoutEffect, useRef, useState } from 'react';
import { movedRow } from '../logic/rowNavigation.js';

export const ROW_HEIGHT = 26;

interface Props<T> {
  readonly table: Table<T>;
  readonly testId: string;
  /** data-testid of each row: `${testId}-row-${rowKey(row)}`; also the row's React key, so per-row state follows the record */
  readonly rowKey: (row: T) => string | number;
  /** selects a row: a click, or the arrow keys once the table has focus (rows are keyboard-selectable only with it) */
  readonly onRowClick?: (row: T) => void;
  /** opens the selected row's details: Enter or a double click */
  readonly onRowOpen?: (row: T) => void;
  readonly selectedKey?: string | number | undefined;
  /** the grid's accessible name, when rows are selectable */
  readonly label?: string;
  readonly className?: string;
  readonly rowClassName?: (row: T) => string | undefined;
  readonly empty?: string;
}

/**
 * A tanstack table whose body renders only the rows in view (plus overscan): 10^5 members scroll as
 * smoothly as 10. Spacer rows above and below keep the scrollbar true to the full height; rows are
 * measured, so one that grows (an opened meter list) pushes the next down instead of covering it.
 * With `onRowClick` it is a WAI-ARIA grid: one tab stop, the arrow keys, Page Up/Down, Home and End
 * move the selection and scroll it into view, Enter opens it, and the active row is announced
 * through aria-activedescendant and aria-selected.
 */
export function VirtualTable<T>({ table, testId, rowKey, onRowClick, onRowOpen, selectedKey, label, className, rowClassName, empty }: Props<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const headRef = useRef<HTMLTableSectionElement>(null);
  // rows start below the sticky header: the virtualizer must know it to scroll a row out from under it
  const [headHeight, setHeadHeight] = useState(ROW_HEIGHT);
  useLayoutEffect(() => {
    const height = headRef.current?.offsetHeight;
    if (height !== undefined && height > 0 && height !== headHeight) setHeadHeight(height);
  });
  const rows = table.getRowModel().rows;
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (index) => rowKey((rows[index] as Row<T>).original),
    paddingStart: headHeight,
    scrollPaddingStart: headHeight,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const top = items.length > 0 ? items[0]!.start - headHeight : 0;
  const bottom = items.length > 0 ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  const columns = table.getVisibleLeafColumns().length;
  const selectable = onRowClick !== undefined;
  const rowId = (key: string | number) => `${testId}-row-${key}`;
  // only a rendered row can be the active descendant; a selection scrolled away by the mouse has none
  const activeId = selectable && selectedKey !== undefined && items.some((item) => item.key === selectedKey) ? rowId(selectedKey) : undefined;

  const onKeyDown = (event: KeyboardEvent<HTMLTableElement>) => {
    if (!selectable) return;
    // Enter on a cell's own control (a meter list's summary) and keys in a header (sorting) stay theirs;
    // an arrow pressed on a summary still moves the selection, and focus comes back to the grid
    const inside = event.target !== event.currentTarget;
    if (inside && (event.key === 'Enter' || (event.target as Element).closest('thead, input, select, textarea') !== null)) return;
    const current = selectedKey === undefined ? undefined : rows.findIndex((row) => rowKey(row.original) === selectedKey);
    if (event.key === 'Enter') {
      if (current === undefined || current < 0) return;
      event.preventDefault();
      onRowOpen?.(rows[current]!.original);
      return;
    }
    const page = Math.floor(((scrollRef.current?.clientHeight ?? 0) - headHeight) / ROW_HEIGHT) - 1;
    const next = movedRow(event.key, current, rows.length, page);
    if (next === undefined) return;
    event.preventDefault();
    if (inside) event.currentTarget.focus();
    onRowClick(rows[next]!.original);
    virtualizer.scrollToIndex(next, { align: 'auto' });
  };

  return (
    <div ref={scrollRef} className={`table-scroll ${className ?? ''}`} data-testid={testId}>
      <table
        className="data-table"
        role={selectable ? 'grid' : undefined}
        aria-label={selectable ? label : undefined}
        aria-rowcount={selectable ? rows.length + 1 : undefined}
        aria-activedescendant={activeId}
        tabIndex={selectable ? 0 : undefined}
        onKeyDown={selectable ? onKeyDown : undefined}
      >
        <thead ref={headRef}>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id} aria-rowindex={selectable ? 1 : undefined}>
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
                key={key}
                ref={virtualizer.measureElement}
                data-index={item.index}
                id={selectable ? rowId(key) : undefined}
                data-testid={rowId(key)}
                className={[selectable ? 'clickable' : '', selected ? 'selected' : '', rowClassName?.(row.original) ?? ''].join(' ').trim() || undefined}
                onClick={selectable ? () => onRowClick(row.original) : undefined}
                onDoubleClick={onRowOpen ? () => onRowOpen(row.original) : undefined}
                aria-rowindex={selectable ? item.index + 2 : undefined}
                aria-selected={selectable ? selected : undefined}
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
