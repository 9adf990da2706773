import { useMemo, useState } from 'react';
import type { CommandResultView, PlanView } from '../../../preload/api.js';
import { ConfirmationInput } from '../components/ConfirmationInput.js';
import { DataTable, numeric } from '../components/DataTable.js';
import { Problems } from '../components/ErrorList.js';
import { PlanPanel } from '../components/PlanPanel.js';
import { useMemberIds } from '../components/useMemberIds.js';
import { useAction, useApp, useEvents } from '../context.js';
import { commandGate } from '../logic/confirmation.js';
import { parseMeterIds } from '../logic/meterIds.js';

/**
 * Disconnector open/close to the whole group or a selection: plan, see who, confirm, per-meter result.
 * A selection is confirmed by a tick; every member by typing the group name, as a recovery is.
 */
export function Commands() {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const members = useMemberIds();
  const [action, setAction] = useState<'open' | 'close'>('open');
  const [target, setTarget] = useState<'all' | 'selection'>('selection');
  const [text, setText] = useState('');
  const [plan, setPlan] = useState<PlanView | undefined>(undefined);
  const [ticked, setTicked] = useState(false);
  const [typed, setTyped] = useState('');
  const [result, setResult] = useState<CommandResultView | undefined>(undefined);
  const [progress, setProgress] = useState<string | undefined>(undefined);
  const parsed = useMemo(() => parseMeterIds(text, { known: members.known, serials: members.serials }), [text, members.known, members.serials]);

  useEvents(['progress'], (event) => event.type === 'progress' && event.planId === plan?.id && setProgress(event.message));

  const reset = () => {
    setPlan(undefined);
    setTicked(false);
    setTyped('');
    setResult(undefined);
    setProgress(undefined);
  };
  const makePlan = async () => {
    reset();
    const p = await run(() => api.planCommand({ action, meters: target === 'all' ? 'all' : parsed.ids }), 'plan command');
    if (p) setPlan(p);
  };
  const execute = async () => {
    if (!plan) return;
    const r = await run(() => api.executeCommand(plan.id, { confirmation: plan.confirmation === undefined ? undefined : typed }), `${action} disconnectors`);
    if (r) {
      setResult(r);
      inform(`${r.action}: ${r.confirmed.length} confirmed, ${r.missing.length} missing`);
    }
  };
  const canPlan = target === 'all' || (parsed.ids.length > 0 && parsed.problems.length === 0);
  const gate = plan === undefined ? undefined : commandGate(plan, typed, ticked);
  const rows = useMemo(
    () => (result === undefined ? [] : [...result.confirmed.map((id) => ({ id, ok: true })), ...result.missing.map((id) => ({ id, ok: false }))].sort((a, b) => a.id - b.id)),
    [result],
  );

  return (
    <div className="screen">
      <h2>Commands</h2>
      <section className="panel form" aria-label="Command">
        <h3>Disconnector</h3>
        <fieldset className="inline">
          <legend>Action</legend>
          <label className="check">
            <input type="radio" name="command-action" data-testid="command-action-open" checked={action === 'open'} onChange={() => (setAction('open'), reset())} /> Open (cut supply)
          </label>
          <label className="check">
            <input type="radio" name="command-action" data-testid="command-action-close" checked={action === 'close'} onChange={() => (setAction('close'), reset())} /> Close (restore supply)
          </label>
        </fieldset>
        <fieldset className="inline">
          <legend>Meters</legend>
          <label className="check">
            <input type="radio" name="command-target" data-testid="command-target-selection" checked={target === 'selection'} onChange={() => (setTarget('selection'), reset())} /> A selection
          </label>
          <label className="check">
            <input type="radio" name="command-target" data-testid="command-target-all" checked={target === 'all'} onChange={() => (setTarget('all'), reset())} /> Every member
          </label>
        </fieldset>
        {target === 'selection' && (
          <>
            <label>
              Meters: ids, ranges such as 100-180, or serials (comma, space or line separated)
              <textarea rows={2} data-testid="command-ids" value={text} onChange={(e) => (setText(e.target.value), reset())} />
            </label>
            <Problems problems={parsed.problems} testId="command-problems" />
            {parsed.summary !== '' && (
              <p className="review" data-testid="command-resolved">
                {parsed.summary}
              </p>
            )}
          </>
        )}
        <button type="button" data-testid="command-plan" disabled={busy || !canPlan} onClick={() => void makePlan()}>
          Plan the command
        </button>
      </section>
      {plan !== undefined && (
        <>
          <PlanPanel plan={plan} testId="command" />
          <section className={`panel execute ${action === 'open' ? 'danger-zone' : ''}`}>
            {plan.confirmation === undefined ? (
              <label className="check">
                <input type="checkbox" data-testid="command-confirm" checked={ticked} disabled={result !== undefined} onChange={(e) => setTicked(e.target.checked)} />
                I confirm: {action} the disconnector of these {plan.affected.length} meter(s)
              </label>
            ) : (
              <ConfirmationInput expected={plan.confirmation} typed={typed} onTyped={setTyped} testId="command" disabled={result !== undefined} />
            )}
            <div className="row">
              <button
                type="button"
                className={action === 'open' ? 'danger' : 'primary'}
                data-testid="command-execute"
                disabled={!gate?.enabled || busy || result !== undefined}
                onClick={() => void execute()}
              >
                {busy ? 'Sending…' : `${action === 'open' ? 'Open' : 'Close'} ${plan.affected.length} disconnector(s)`}
              </button>
              {progress !== undefined && <span className="hint" data-testid="command-progress">{progress}</span>}
              {gate?.enabled === false && result === undefined && <span className="hint">{gate.reason}</span>}
            </div>
          </section>
        </>
      )}
      {result !== undefined && (
        <section className="panel" data-testid="command-result" aria-label="Result">
          <h3>
            Result: <span data-testid="command-confirmed-count">{result.confirmed.length}</span> confirmed,{' '}
            <span data-testid="command-missing-count" className={result.missing.length > 0 ? 'error-text' : undefined}>
              {result.missing.length}
            </span>{' '}
            missing ({result.resends} resend(s), seq {result.seq})
          </h3>
          <div className="table-scroll short">
            <DataTable testId="command-result-table" compact columns={[numeric('Meter'), 'Result']}>
              {rows.slice(0, 2000).map((r) => (
                <tr key={r.id} data-testid={`command-result-${r.id}`}>
                  <td className="num">{r.id}</td>
                  <td className={r.ok ? 'ok-text' : 'error-text'}>{r.ok ? 'confirmed' : 'missing'}</td>
                </tr>
              ))}
            </DataTable>
          </div>
          {rows.length > 2000 && <p className="muted">first 2000 of {rows.length} shown</p>}
        </section>
      )}
    </div>
  );
}
