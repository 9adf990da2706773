import { useState } from 'react';
import type { StagingView } from '../../../preload/api.js';
import { useAction, useApp } from '../context.js';
import { DataTable } from './DataTable.js';
import { bytesToBase64 } from '../logic/format.js';
import { formatBytes } from '../logic/costScale.js';

/** Drop or pick a signed package; the back end runs every staging check and says which passed. */
export function FirmwareStaging({ onStaged }: { readonly onStaged: () => void }) {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const [dragging, setDragging] = useState(false);
  const [staging, setStaging] = useState<{ readonly file: string; readonly view: StagingView } | undefined>(undefined);

  const stage = async (file: File) => {
    setStaging(undefined);
    const base64 = bytesToBase64(new Uint8Array(await file.arrayBuffer()));
    const view = await run(() => api.stageFirmware(base64), `stage ${file.name}`);
    if (view) {
      setStaging({ file: file.name, view });
      if (view.staged) {
        inform(`${file.name} staged as package ${view.staged.id}`);
        onStaged();
      }
    }
  };

  return (
    <section className="panel" aria-label="Stage a package">
      <h3>Stage a package</h3>
      <div
        className={`drop-zone ${dragging ? 'dragging' : ''}`}
        data-testid="firmware-drop"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          const file = e.dataTransfer.files[0];
          if (file) void stage(file);
        }}
      >
        <p>Drop a signed firmware package here, or</p>
        <input type="file" data-testid="firmware-file" disabled={busy} onChange={(e) => e.target.files?.[0] && void stage(e.target.files[0])} />
        {busy && <p className="muted">Checking…</p>}
      </div>
      {staging !== undefined && (
        <div className="staging" data-testid="firmware-staging">
          <p className={staging.view.staged ? 'ok-text' : 'error-text'} data-testid="firmware-staging-verdict">
            {staging.file}: {staging.view.staged ? `staged as package ${staging.view.staged.id}` : 'refused — see the failed check'}
          </p>
          {staging.view.warnings.map((w) => (
            <p key={w.code} className="warn-text" data-testid={`firmware-staging-warning-${w.code}`}>
              {w.code}: {w.message}
            </p>
          ))}
          {staging.view.manifest !== undefined && (
            <dl className="facts" data-testid="firmware-manifest">
              <dt>Vendor</dt>
              <dd>{staging.view.manifest.vendor}</dd>
              <dt>Model</dt>
              <dd data-testid="firmware-manifest-model">{staging.view.manifest.model}</dd>
              <dt>Version</dt>
              <dd data-testid="firmware-manifest-version">{staging.view.manifest.version}</dd>
              <dt>Sequence</dt>
              <dd>{staging.view.manifest.sequence}</dd>
              <dt>Size</dt>
              <dd>
                {staging.view.manifest.size} ({formatBytes(staging.view.manifest.size)})
              </dd>
              <dt>Digest</dt>
              <dd className="mono wrap">{staging.view.manifest.digest}</dd>
            </dl>
          )}
          <DataTable testId="firmware-checks" compact columns={['Check', 'Result', 'Detail']}>
            {staging.view.checks.map((c) => (
              <tr key={c.check} data-testid={`firmware-check-${c.check}`} data-status={c.status}>
                <td>{c.check}</td>
                <td className={`check-${c.status}`} data-testid={`firmware-check-${c.check}-status`}>
                  {c.status === 'passed' ? '✔ passed' : c.status === 'failed' ? '✘ failed' : '– skipped'}
                </td>
                <td>{c.detail}</td>
              </tr>
            ))}
          </DataTable>
        </div>
      )}
    </section>
  );
}
