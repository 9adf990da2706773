import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useMemo, useRef, useState } from 'react';
import type { AuditVerdictView, AuditView } from '../../../preload/api.js';
import { MeterText } from '../components/MeterText.js';
import { RecordsToolbar } from '../components/RecordsToolbar.js';
import { useRowSearch } from '../components/useRowSearch.js';
import { useSimpleTable } from '../components/useSimpleTable.js';
import { VirtualTable } from '../components/VirtualTable.js';
import { useAction, useApp, useResource } from '../context.js';
import { downloadText, fileStamp } from '../download.js';
import { formatTime } from '../logic/format.js';
import { collapsedText } from '../logic/meterLists.js';
import { auditCsv, auditDetailFields, auditSearchCells } from '../logic/records.js';
import { choices } from '../logic/rowSearch.js';

const NONE: readonly AuditView[] = [];
const ALL = '';

/** The hash-chained audit log, searchable and filterable by actor and action, exportable, and a check of the whole chain. */
export function Audit() {
  const { api, session, inform } = useApp();
  const { busy, run } = useAction();
  const log = useResource((a) => a.auditLog(), ['history', 'group', 'campaign'], [], 2000);
  const [verdict, setVerdict] = useState<AuditVerdictView | undefined>(undefined);
  const [selectedId, setSelectedId] = useState<number | undefined>(undefined);
  const [actor, setActor] = useState(ALL);
  const [action, setAction] = useState(ALL);
  const detailRef = useRef<HTMLElement>(null);
  const rows = log.data ?? NONE;
  const keep = useCallback((a: AuditView) => (actor === ALL || a.actor === actor) && (action === ALL || a.action === action), [actor, action]);
  const search = useRowSearch(rows, auditSearchCells, keep);
  const actors = useMemo(() => choices(rows, (a) => a.actor), [rows]);
  const actions = useMemo(() => choices(rows, (a) => a.action), [rows]);

  const columns = useMemo<ColumnDef<AuditView, any>[]>(
    () => [
      { id: 'id', header: '#', accessorKey: 'id' },
      { id: 'at', header: 'At', accessorKey: 'at', cell: (c) => formatTime(c.row.original.at) },
      { id: 'actor', header: 'Actor', accessorKey: 'actor' },
      { id: 'action', header: 'Action', accessorKey: 'action' },
      {
        id: 'detail',
        header: 'Detail',
        accessorKey: 'detail',
        enableSorting: false,
        // a meter list reads as its count here; the details panel lists the ids
        cell: (c) => {
          const text = collapsedText(c.row.original.detail);
          return (
            <span className="mono ellipsis" title={text}>
              {text}
            </span>
          );
        },
      },
      { id: 'hash', header: 'Hash', accessorKey: 'hash', enableSorting: false, cell: (c) => <span className="mono" title={c.row.original.hash}>{c.row.original.hash.slice(0, 16)}…</span> },
    ],
    [],
  );
  const table = useSimpleTable(search.found, columns, [{ id: 'id', desc: true }]);
  const shown = table.getRowModel().rows;
  const selected = selectedId === undefined ? undefined : search.found.find((a) => a.id === selectedId);
  const fields = useMemo(() => (selected === undefined ? undefined : auditDetailFields(selected.detail)), [selected]);

  const verify = async () => {
    setVerdict(undefined);
    const v = await run(() => api.verifyAudit(), 'verify audit');
    if (v) {
      setVerdict(v);
      if (v.ok) inform(`audit chain verified: ${v.rows} rows`);
    }
  };
  const exportCsv = () => {
    const name = `${session.group?.name ?? 'store'}-audit-${fileStamp(new Date())}.csv`;
    downloadText(name, auditCsv(shown.map((row) => row.original)), 'text/csv;charset=utf-8');
    inform(`exported ${shown.length} audit rows to ${name}`);
  };

  return (
    <div className="screen">
      <h2>Audit</h2>
      <section className="panel">
        <div className="toolbar">
          <button type="button" className="primary" data-testid="audit-verify" disabled={busy} onClick={() => void verify()}>
            Verify chain
          </button>
          <button type="button" data-testid="audit-refresh" onClick={log.reload}>
            Refresh
          </button>
          <span className="count" data-testid="audit-count">
            {rows.length} rows
          </span>
          {verdict !== undefined && (
            <span className={`verdict ${verdict.ok ? 'ok' : 'bad'}`} data-testid="audit-verdict" role={verdict.ok ? 'status' : 'alert'}>
              {verdict.ok ? `✔ chain intact: ${verdict.rows} rows` : `✘ chain broken after ${verdict.rows} rows: ${verdict.problem}`}
            </span>
          )}
        </div>
      </section>
      <div className="split">
        <section className="panel grow" aria-label="Audit log">
          <RecordsToolbar
            searchLabel="the audit log"
            searchTestId="audit-filter"
            query={search.query}
            onQuery={search.setQuery}
            choices={[
              { label: 'Actor', testId: 'audit-actor', every: 'every actor', values: actors, value: actor, onChange: setActor },
              { label: 'Action', testId: 'audit-action', every: 'every action', values: actions, value: action, onChange: setAction },
            ]}
            shown={shown.length}
            total={rows.length}
            countTestId="audit-shown"
            exportTestId="audit-export"
            onExport={exportCsv}
          />
          <VirtualTable
            table={table}
            testId="audit-table"
            label="Audit log"
            rowKey={(a) => a.id}
            onRowClick={(a) => setSelectedId(a.id)}
            onRowOpen={(a) => {
              setSelectedId(a.id);
              detailRef.current?.focus();
            }}
            selectedKey={selected?.id}
            className="tall"
            empty={rows.length === 0 ? 'The audit log is empty.' : 'No audit row matches the search.'}
          />
        </section>
        <section className="panel side" aria-label="Audit row" data-testid="audit-detail" ref={detailRef} tabIndex={-1}>
          <h3>Detail</h3>
          {selected === undefined ? (
            <p className="muted">Select a row (click, or the arrow keys in the table); Enter brings you here.</p>
          ) : (
            <dl className="facts" key={selected.id}>
              <dt>#</dt>
              <dd>{selected.id}</dd>
              <dt>At</dt>
              <dd>{formatTime(selected.at)}</dd>
              <dt>Actor</dt>
              <dd>{selected.actor}</dd>
              <dt>Action</dt>
              <dd>{selected.action}</dd>
              {fields === undefined ? (
                <>
                  <dt>Detail</dt>
                  <dd className="mono wrap">
                    <MeterText text={selected.detail} open testId="audit-detail-text" />
                  </dd>
                </>
              ) : (
                fields.map((field) => (
                  <FieldLine key={field.label} label={field.label} value={field.value} />
                ))
              )}
              <dt>Hash</dt>
              <dd className="mono wrap">{selected.hash}</dd>
            </dl>
          )}
        </section>
      </div>
    </div>
  );
}

function FieldLine({ label, value }: { readonly label: string; readonly value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className="mono wrap" data-testid={`audit-detail-${label}`}>
        <MeterText text={value} open testId={`audit-detail-${label}`} />
      </dd>
    </>
  );
}
