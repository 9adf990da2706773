import { useMemo, useState } from 'react';
import type { PlanView } from '../../../preload/api.js';
import { useAction, useApp } from '../context.js';
import { parseMeterIds } from '../logic/meterIds.js';
import { Problems } from './ErrorList.js';
import { ExecutePanel } from './ExecutePanel.js';
import { PlanPanel } from './PlanPanel.js';
import { useMemberIds } from './useMemberIds.js';

/** a range of thousands is summarised above: one chip each for the first ones only */
const SHOWN_CHIPS = 60;

interface Props {
  readonly kind: 'leave' | 'recover';
}

/**
 * Leave (meters retired or moved) and recovery (meters suspected of colluding): both remove members
 * and rekey; recovery also replaces every key the suspects could have pooled, and may name meters that
 * left earlier by a plain leave (departed suspects: their places join the suspicion record). Both are
 * dangerous, so both end in a typed confirmation: the ids for a leave, the group name for a recovery.
 */
export function RemovalAction({ kind }: Props) {
  const { api } = useApp();
  const { busy, run } = useAction();
  const members = useMemberIds();
  const [text, setText] = useState('');
  const [plan, setPlan] = useState<PlanView | undefined>(undefined);
  const { known: present, departed, serials } = members;
  const parsed = useMemo(() => {
    if (kind === 'leave') return parseMeterIds(text, { known: present, serials });
    const named = present === undefined || departed === undefined ? undefined : new Set([...present, ...departed]);
    return parseMeterIds(text, { known: named, serials, unknown: 'is neither a member nor a meter that left by a plain leave' });
  }, [kind, text, present, departed, serials]);
  const testId = kind;

  const makePlan = async () => {
    setPlan(undefined);
    const p = await run(() => (kind === 'leave' ? api.planLeave(parsed.ids) : api.planRecover(parsed.ids)), kind === 'leave' ? 'plan leave' : 'plan recovery');
    if (p) setPlan(p);
  };

  return (
    <div className="action">
      <section className="panel form danger-zone" aria-label={kind === 'leave' ? 'Leave' : 'Recovery'}>
        <h3>{kind === 'leave' ? 'Remove meters from the group' : 'Recover from compromised meters'}</h3>
        <p className="muted">
          {kind === 'leave'
            ? 'The meters lose the group key at the next epoch; the rest of the group is rekeyed.'
            : 'Evicts the suspected meters and replaces every key they could have pooled. Use it when meters are believed compromised or colluding. Meters that left earlier by a plain leave may be named too: they are suspected as departed (no message reaches them).'}
        </p>
        <label>
          {kind === 'leave' ? 'Meters' : 'Suspected meters'}: ids, ranges such as 100-180, or serials (comma, space or line separated)
          <textarea
            rows={2}
            data-testid={`${testId}-ids`}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setPlan(undefined);
            }}
          />
        </label>
        <Problems problems={parsed.problems} testId={`${testId}-problems`} />
        {parsed.ids.length > 0 && (
          <div className="review" data-testid={`${testId}-review`}>
            <strong data-testid={`${testId}-resolved`}>{parsed.summary}</strong>{' '}
            {parsed.ids.slice(0, SHOWN_CHIPS).map((id) => (
              <span key={id} className="chip" data-testid={`${testId}-review-${id}`}>
                {id}
                {kind === 'recover' && departed?.has(id) ? ' (departed)' : ''}
              </span>
            ))}
            {parsed.ids.length > SHOWN_CHIPS && <span className="muted">… and {parsed.ids.length - SHOWN_CHIPS} more</span>}
          </div>
        )}
        <button type="button" data-testid={`${testId}-make-plan`} disabled={busy || parsed.ids.length === 0 || parsed.problems.length > 0} onClick={() => void makePlan()}>
          {kind === 'leave' ? 'Plan the leave' : 'Plan the recovery'}
        </button>
      </section>
      {plan !== undefined && (
        <>
          <PlanPanel plan={plan} testId={testId} />
          <ExecutePanel
            key={plan.id}
            plan={plan}
            testId={testId}
            danger
            verb={kind === 'leave' ? 'Remove meters' : 'Recover'}
            onExecuted={() => {
              // the ids were spent: checked against the new membership they would read "not a member"
              setText('');
              members.reload();
            }}
          />
        </>
      )}
    </div>
  );
}
