import { useState } from 'react';
import type { ExecutionView, PlanView } from '../../../preload/api.js';
import { useAction, useApp, useEvents } from '../context.js';
import { executeGate } from '../logic/confirmation.js';
import { ConfirmationInput } from './ConfirmationInput.js';
import { executionOutcome } from '../logic/executionOutcome.js';

interface Props {
  readonly plan: PlanView;
  readonly testId: string;
  /** leave and recovery: red button and panel */
  readonly danger?: boolean;
  readonly verb: string;
  readonly onExecuted?: (result: ExecutionView) => void;
}

/**
 * The deliberate step: a typed confirmation when the plan asks for one (Execute stays disabled until
 * it matches exactly), an explicit opt-in when CSV lines were rejected, then progress and the result.
 */
export function ExecutePanel({ plan, testId, danger, verb, onExecuted }: Props) {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const [typed, setTyped] = useState('');
  const [acceptRejected, setAcceptRejected] = useState(false);
  const [progress, setProgress] = useState<string[]>([]);
  const [result, setResult] = useState<ExecutionView | undefined>(undefined);

  useEvents(['progress'], (event) => {
    // a repeated message (a poll that found nothing new) replaces the line instead of piling up
    if (event.type === 'progress' && event.planId === plan.id) setProgress((lines) => (lines[lines.length - 1] === event.message ? lines : [...lines.slice(-49), event.message]));
  });

  const gate = executeGate(plan, typed, acceptRejected);
  const execute = async () => {
    setProgress([]);
    const done = await run(() => api.execute(plan.id, { confirmation: plan.confirmation === undefined ? undefined : typed, acceptRejected }), verb);
    if (done !== undefined) {
      setResult(done);
      const outcome = executionOutcome(done);
      inform(`${verb}: epoch ${done.epochFrom} → ${done.epoch}, ${outcome.text}`, outcome.code);
      onExecuted?.(done);
    }
  };

  return (
    <section className={`panel execute ${danger ? 'danger-zone' : ''}`} data-testid={`${testId}-execute-panel`}>
      {plan.rejected.length > 0 && (
        <label className="check">
          <input type="checkbox" data-testid={`${testId}-accept-rejected`} checked={acceptRejected} disabled={result !== undefined} onChange={(e) => setAcceptRejected(e.target.checked)} />
          Commission the valid lines only ({plan.rejected.length} rejected line(s) will be left out)
        </label>
      )}
      {plan.confirmation !== undefined && <ConfirmationInput expected={plan.confirmation} typed={typed} onTyped={setTyped} testId={testId} disabled={result !== undefined} />}
      <div className="row">
        <button
          type="button"
          className={danger ? 'danger' : 'primary'}
          data-testid={`${testId}-execute`}
          disabled={!gate.enabled || busy || result !== undefined}
          onClick={() => void execute()}
        >
          {busy ? `${verb}…` : verb}
        </button>
        {!gate.enabled && result === undefined && <span className="hint">{gate.reason}</span>}
      </div>
      {busy && progress.length > 0 && (
        <p className="progress-now" data-testid={`${testId}-progress-now`}>
          {progress[progress.length - 1]}
        </p>
      )}
      {progress.length > 0 && (
        <ol className="progress-log" data-testid={`${testId}-progress`}>
          {progress.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ol>
      )}
      {result !== undefined && <ExecutionResult result={result} testId={testId} />}
    </section>
  );
}

export function ExecutionResult({ result, testId }: { readonly result: ExecutionView; readonly testId: string }) {
  return (
    <div className={`result ${result.converged ? 'ok' : 'warn'}`} data-testid={`${testId}-result`}>
      <strong data-testid={`${testId}-result-converged`}>{result.converged ? 'Converged' : 'Not converged'}</strong>
      <span>
        {' '}
        epoch {result.epochFrom} → {result.epoch}, {result.resyncs} resync(s)
      </span>
      {!result.converged && <p data-testid={`${testId}-result-outcome`}>{executionOutcome(result).text}</p>}
      {result.unreachable.length > 0 && (
        <p data-testid={`${testId}-result-unreachable`}>
          Unreachable ({result.unreachable.length}): {result.unreachable.slice(0, 100).join(', ')}
          {result.unreachable.length > 100 ? ' …' : ''}
        </p>
      )}
    </div>
  );
}
