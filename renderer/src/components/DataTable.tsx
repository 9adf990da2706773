import type { ReactNode } from 'react';

/** A column heading; numeric columns are right-aligned (th.num), as their cells are. */
export type Column = string | { readonly label: string; readonly numeric: true };

export const numeric = (label: string): Column => ({ label, numeric: true });

/**
 * The plain tables of the screens (no sorting, no virtual rows): the headings, the rows the caller
 * renders, and a row saying so when `empty` is given and there is nothing to show.
 */
export function DataTable({
  testId,
  columns,
  compact = false,
  caption,
  empty,
  children,
}: {
  readonly testId: string;
  readonly columns: readonly Column[];
  readonly compact?: boolean;
  readonly caption?: string;
  /** shown across the table in place of rows; false or undefined while there are rows (or none loaded yet) */
  readonly empty?: string | false | undefined;
  readonly children: ReactNode;
}) {
  return (
    <table className={compact ? 'data-table compact' : 'data-table'} data-testid={testId}>
      {caption !== undefined && <caption>{caption}</caption>}
      <thead>
        <tr>
          {columns.map((column, i) => (
            <th key={i} className={typeof column === 'string' ? undefined : 'num'}>
              {typeof column === 'string' ? column : column.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {children}
        {empty && (
          <tr>
            <td colSpan={columns.length} className="empty">
              {empty}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
