import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { AuditVerdictView, AuditView } from '../../../preload/api.js';
import { useSimpleTable } from '../components/useSimpleTable.js';
import { VirtualTable } from '../components/VirtualTable.js';
import { useAction, useApp, useResource } from '../context.js';
import { formatTime } from '../logic/format.js';

const NONE: readonly AuditView[] = [];

/** The hash-chained audit log and a check of the whole chain. */
export function Audit() {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const log = useResource((a) => a.auditLog(), ['history', 'group', 'campaign'], [], 2000);
  const [verdict, setVerdict] = useState<AuditVerdictView | undefined>(undefined);
  const columns = useMemo<ColumnDef<AuditView, any>[]>(
    () => [
      { id: 'id', header: '#', accessorKey: 'id' },
      { id: 'at', header: 'At', accessorKey: 'at', cell: (c) => formatTime(c.row.original.at) },
      { id: 'actor', header: 'Actor', accessorKey: 'actor' },
      { id: 'action', header: 'Action', accessorKey: 'action' },
      { id: 'detail', header: 'Detail', accessorKey: 'detail', enableSorting: false, cell: (c) => <span className="mono ellipsis" title={c.row.original.detail}>{c.row.original.detail}</span> },
      { id: 'hash', header: 'Hash', accessorKey: 'hash', enableSorting: false, cell: (c) => <span className="mono" title={c.row.original.hash}>{c.row.original.hash.slice(0, 16)}…</span> },
    ],
    [],
  );
  const table = useSimpleTable(log.data ?? NONE, columns, [{ id: 'id', desc: true }]);

  const verify = async () => {
    setVerdict(undefined);
    const v = await run(() => api.verifyAudit(), 'verify audit');
    if (v) {
      setVerdict(v);
      if (v.ok) inform(`audit chain verified: ${v.rows} rows`);
    }
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
            {log.data?.length ?? 0} rows
          </span>
          {verdict !== undefined && (
            <span className={`verdict ${verdict.ok ? 'ok' : 'bad'}`} data-testid="audit-verdict" role={verdict.ok ? 'status' : 'alert'}>
              {verdict.ok ? `✔ chain intact: ${verdict.rows} rows` : `✘ chain broken after ${verdict.rows} rows: ${verdict.problem}`}
            </span>
          )}
        </div>
        <VirtualTable table={table} testId="audit-table" rowKey={(a) => a.id} className="tall" empty="The audit log is empty." />
      </section>
    </div>
  );
}
