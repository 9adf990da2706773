import {
  type ColumnDef,
  getCoreRowModel,
  getFilteredRowModel,
  getSortedRowModel,
  type SortingState,
  useReactTable,
  type VisibilityState,
} from '@tanstack/react-table';
import { useDeferredValue, useMemo, useRef, useState } from 'react';
import type { MemberView } from '../../../preload/api.js';
import { DataTable, numeric } from '../components/DataTable.js';
import { MemberDetail } from '../components/MemberDetail.js';
import { VirtualTable } from '../components/VirtualTable.js';
import { useApp, useResource } from '../context.js';
import { buildCsv } from '../logic/csv.js';
import { formatTime } from '../logic/format.js';
import { MEMBER_COLUMNS } from '../logic/memberColumns.js';
import { subgroupOverview, totals } from '../logic/subgroups.js';

const NO_MEMBERS: readonly MemberView[] = [];

/**
 * Membership: every meter ever commissioned, filterable, sortable, exportable; the subgroups at a
 * glance. A click on a row, or Enter on the selected one, opens the meter's detail.
 */
export function Group() {
  const { inform } = useApp();
  const group = useResource((a) => a.group(), ['group'], [], 1000);
  const members = group.data?.members ?? NO_MEMBERS;
  const [filter, setFilter] = useState('');
  const deferredFilter = useDeferredValue(filter);
  const [sorting, setSorting] = useState<SortingState>([]);
  const [visibility, setVisibility] = useState<VisibilityState>({});
  const [chooser, setChooser] = useState(false);
  const [selected, setSelected] = useState<number | undefined>(undefined);
  const [opened, setOpened] = useState<number | undefined>(undefined);
  /** the row a pointer selected, for the click that follows it up to the table (arrow keys select without one) */
  const pointed = useRef<number | undefined>(undefined);
  const tableArea = useRef<HTMLDivElement>(null);

  const columns = useMemo<ColumnDef<MemberView, any>[]>(
    () =>
      MEMBER_COLUMNS.map((c) => ({
        id: c.id,
        header: c.label,
        accessorFn: (m: MemberView) => c.value(m) ?? '',
        cell:
          c.id === 'lastAck'
            ? (ctx) => formatTime(ctx.row.original.lastAck)
            : c.id === 'sync'
              ? (ctx) => <span data-testid="member-sync" className={`sync sync-${ctx.row.original.sync.replace(' ', '-')}`}>{ctx.row.original.sync}</span>
              : c.id === 'status'
                ? (ctx) => <span data-testid="member-status" className={`member-status status-${ctx.row.original.status}`}>{ctx.row.original.status}</span>
                : c.id === 'firmware' || c.id === 'disconnector'
                  ? (ctx) => <span className={ctx.getValue() === 'unknown' ? 'muted' : undefined}>{String(ctx.getValue())}</span>
                  : (ctx) => String(ctx.getValue() ?? ''),
      })),
    [],
  );

  const table = useReactTable<MemberView>({
    data: members as MemberView[],
    columns,
    state: { sorting, globalFilter: deferredFilter, columnVisibility: visibility },
    onSortingChange: setSorting,
    onColumnVisibilityChange: setVisibility,
    globalFilterFn: 'includesString',
    sortDescFirst: false,
    getColumnCanGlobalFilter: () => true,
    getCoreRowModel: getCoreRowModel(),
    getFilteredRowModel: getFilteredRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const shown = table.getRowModel().rows.length;
  const overview = useMemo(() => subgroupOverview(members), [members]);
  const sum = totals(overview);

  const exportCsv = () => {
    const visible = MEMBER_COLUMNS.filter((c) => visibility[c.id] !== false);
    const csv = buildCsv(
      visible.map((c) => c.label),
      table.getRowModel().rows.map((row) => visible.map((c) => c.value(row.original))),
    );
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    const anchor = document.createElement('a');
    anchor.href = url;
    anchor.download = `${group.data?.group.name ?? 'group'}-members-epoch-${group.data?.group.epoch ?? 0}.csv`;
    anchor.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    inform(`exported ${shown} members to ${anchor.download}`);
  };

  return (
    <div className="screen">
      <h2>Group</h2>
      {group.data !== undefined && (
        <dl className="facts panel" data-testid="group-summary">
          <dt>Name</dt>
          <dd data-testid="group-name">{group.data.group.name}</dd>
          <dt>Epoch</dt>
          <dd data-testid="group-epoch">{group.data.group.epoch}</dd>
          <dt>Members</dt>
          <dd data-testid="group-members">{group.data.group.members}</dd>
          <dt>Subgroup cap</dt>
          <dd>{group.data.group.subgroupCap}</dd>
          <dt>KM public key</dt>
          <dd className="mono wrap">{group.data.group.kmPublicKey}</dd>
        </dl>
      )}

      <section className="panel" aria-label="Subgroups">
        <h3>Subgroups</h3>
        <p data-testid="group-sync-totals">
          <span data-testid="group-total-members">{sum.members}</span> members, <span data-testid="group-total-in-sync">{sum.inSync}</span> in sync,{' '}
          <span data-testid="group-total-lagging" className={sum.lagging > 0 ? 'warn-text' : undefined}>
            {sum.lagging}
          </span>{' '}
          lagging,{' '}
          <span data-testid="group-total-unreachable" className={sum.unreachable > 0 ? 'error-text' : undefined}>
            {sum.unreachable}
          </span>{' '}
          unreachable
        </p>
        <div className="table-scroll short">
          <DataTable testId="group-subgroups" compact columns={['Subgroup', 'Members', 'In sync', 'Lagging', 'Unreachable'].map(numeric)}>
            {overview.map((row) => (
              <tr key={row.subgroup} data-testid={`group-subgroup-${row.subgroup}`}>
                <td className="num">{row.subgroup}</td>
                <td className="num">{row.members}</td>
                <td className="num">{row.inSync}</td>
                <td className={`num ${row.lagging > 0 ? 'warn-text' : ''}`}>{row.lagging}</td>
                <td className={`num ${row.unreachable > 0 ? 'error-text' : ''}`}>{row.unreachable}</td>
              </tr>
            ))}
          </DataTable>
        </div>
      </section>

      <section className="panel" aria-label="Members">
        <div className="toolbar">
          <input type="search" placeholder="Filter members…" data-testid="group-filter" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <span className="count" data-testid="group-count">
            {shown} of {members.length} shown
          </span>
          <button type="button" data-testid="group-columns-toggle" aria-expanded={chooser} onClick={() => setChooser(!chooser)}>
            Columns…
          </button>
          <button type="button" data-testid="group-export" disabled={shown === 0} onClick={exportCsv}>
            Export CSV
          </button>
          <button type="button" data-testid="group-refresh" onClick={group.reload}>
            Refresh
          </button>
        </div>
        {chooser && (
          <fieldset className="column-chooser" data-testid="group-columns">
            <legend>Columns</legend>
            {table.getAllLeafColumns().map((column) => (
              <label key={column.id} className="check">
                <input type="checkbox" data-testid={`group-column-${column.id}`} checked={column.getIsVisible()} onChange={column.getToggleVisibilityHandler()} />
                {MEMBER_COLUMNS.find((c) => c.id === column.id)?.label ?? column.id}
              </label>
            ))}
          </fieldset>
        )}
        <div
          ref={tableArea}
          onClick={(event) => {
            const meter = pointed.current;
            pointed.current = undefined;
            if (meter !== undefined && (event.target as Element).closest('tbody tr') !== null) setOpened(meter);
          }}
          // the grid's own key handler runs first and selects by onRowClick: that selection is not a click
          onKeyDown={() => {
            pointed.current = undefined;
          }}
        >
          <VirtualTable
            table={table}
            testId="group-table"
            label="Members"
            rowKey={(m) => m.meterId}
            onRowClick={(m) => {
              pointed.current = m.meterId;
              setSelected(m.meterId);
            }}
            onRowOpen={(m) => setOpened(m.meterId)}
            selectedKey={selected}
            className="tall"
            rowClassName={(m) => (m.status !== 'member' ? 'removed' : m.sync !== 'in sync' ? 'attention' : undefined)}
            empty={group.loading ? 'Loading…' : members.length === 0 ? 'No member yet: commission meters under Actions.' : 'No member matches the filter.'}
          />
        </div>
        {opened !== undefined && (
          <MemberDetail
            meterId={opened}
            onClose={() => {
              setSelected(opened);
              setOpened(undefined);
              // back to the meter's row: the grid holds focus and shows it selected
              tableArea.current?.querySelector<HTMLElement>('table[role="grid"]')?.focus();
            }}
          />
        )}
      </section>
    </div>
  );
}
