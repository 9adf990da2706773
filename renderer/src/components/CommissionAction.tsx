import { useEffect, useState } from 'react';
import type { PlanView } from '../../../preload/api.js';
import { useAction, useApp } from '../context.js';
import { countCsvLines, firstCsvLines } from '../logic/csvLimit.js';
import { isHex } from '../logic/format.js';
import { ExecutePanel } from './ExecutePanel.js';
import { PlanPanel } from './PlanPanel.js';
import { SubmitForm } from './SubmitForm.js';

/** Commission one meter by hand, or many from a CSV (id,serial,model,nodeKey): plan, review, execute. */
export function CommissionAction() {
  const { api } = useApp();
  const { busy, run } = useAction();
  const [plan, setPlan] = useState<PlanView | undefined>(undefined);
  const [fleetCsv, setFleetCsv] = useState<string | undefined>(undefined);
  const [csv, setCsv] = useState<{ readonly text: string; readonly source: string } | undefined>(undefined);
  const [limit, setLimit] = useState('');
  const [meter, setMeter] = useState({ id: '', serial: '', model: '', nodeKey: '' });

  useEffect(() => {
    void run(() => api.simulatedFleetCsv(), 'simulated fleet').then((text) => setFleetCsv(text ?? undefined));
  }, [api, run]);

  const limitNumber = limit.trim() === '' ? undefined : Number(limit);
  const limitValid = limitNumber === undefined || (Number.isInteger(limitNumber) && limitNumber > 0);
  const csvToPlan = csv === undefined ? undefined : limitNumber !== undefined && limitValid ? firstCsvLines(csv.text, limitNumber) : csv.text;

  const id = Number(meter.id);
  const meterProblems = [
    /^\d+$/.test(meter.id) && Number.isSafeInteger(id) ? undefined : 'a numeric meter id',
    meter.serial.trim() ? undefined : 'a serial',
    meter.model.trim() ? undefined : 'a model',
    isHex(meter.nodeKey, 32) ? undefined : 'a node key of 32 hex digits',
  ].filter((p): p is string => p !== undefined);

  const planOne = async () => {
    setPlan(undefined);
    const p = await run(() => api.planCommission([{ id, serial: meter.serial.trim(), model: meter.model.trim(), nodeKey: meter.nodeKey.toLowerCase() }]), 'plan commission');
    if (p) setPlan(p);
  };
  const planCsv = async () => {
    if (csvToPlan === undefined) return;
    setPlan(undefined);
    const p = await run(() => api.planCommissionCsv(csvToPlan), 'plan commission (CSV)');
    if (p) setPlan(p);
  };
  const readFile = async (file: File) => setCsv({ text: await file.text(), source: file.name });

  return (
    <div className="action">
      <div className="split">
        <SubmitForm className="panel form" testId="commission-form" onSubmit={planOne}>
          <h3>One meter</h3>
          <div className="row">
            <label>
              Meter id
              <input data-testid="commission-id" inputMode="numeric" value={meter.id} onChange={(e) => setMeter({ ...meter, id: e.target.value })} />
            </label>
            <label>
              Serial
              <input data-testid="commission-serial" value={meter.serial} onChange={(e) => setMeter({ ...meter, serial: e.target.value })} />
            </label>
            <label>
              Model
              <input data-testid="commission-model" value={meter.model} onChange={(e) => setMeter({ ...meter, model: e.target.value })} />
            </label>
          </div>
          <label>
            Node key (32 hex digits, from the meter's label)
            <input type="password" autoComplete="off" data-testid="commission-node-key" value={meter.nodeKey} onChange={(e) => setMeter({ ...meter, nodeKey: e.target.value.trim() })} />
          </label>
          <div className="row">
            <button type="submit" data-testid="commission-plan-one" disabled={busy || meterProblems.length > 0}>
              Plan commissioning
            </button>
            {meterProblems.length > 0 && <span className="hint">needs {meterProblems.join(', ')}</span>}
          </div>
        </SubmitForm>

        <section className="panel form" aria-label="CSV">
          <h3>Many meters from a CSV</h3>
          <p className="muted">Columns: id,serial,model,nodeKey — one meter per line.</p>
          <div className="row">
            <input type="file" accept=".csv,text/csv,text/plain" data-testid="commission-csv-file" onChange={(e) => e.target.files?.[0] && void readFile(e.target.files[0])} />
            {fleetCsv !== undefined && (
              <button type="button" data-testid="commission-use-fleet" onClick={() => setCsv({ text: fleetCsv, source: "the simulated fleet's CSV" })}>
                Use the simulated fleet's CSV
              </button>
            )}
          </div>
          {csv !== undefined && (
            <p data-testid="commission-csv-loaded">
              {countCsvLines(csv.text)} line(s) from {csv.source}
            </p>
          )}
          <label>
            Only the first N meters (optional)
            <input data-testid="commission-limit" inputMode="numeric" placeholder="all" value={limit} onChange={(e) => setLimit(e.target.value)} />
          </label>
          {!limitValid && <p className="hint">a positive whole number</p>}
          <button type="button" data-testid="commission-plan-csv" disabled={busy || csvToPlan === undefined || !limitValid} onClick={() => void planCsv()}>
            Plan commissioning{csvToPlan !== undefined ? ` of ${countCsvLines(csvToPlan)} line(s)` : ''}
          </button>
        </section>
      </div>
      {plan !== undefined && (
        <>
          <PlanPanel plan={plan} testId="commission" />
          <ExecutePanel key={plan.id} plan={plan} testId="commission" verb="Commission" />
        </>
      )}
    </div>
  );
}
