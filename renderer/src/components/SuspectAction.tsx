import { useMemo, useState } from 'react';
import type { LeaveCostView, SuspectView } from '../../../preload/api.js';
import { useAction, useApp } from '../context.js';
import { suspectConfirmation, suspectGate } from '../logic/confirmation.js';
import { suspectSentence } from '../logic/costText.js';
import { parseMeterIds } from '../logic/meterIds.js';
import { ConfirmationInput } from './ConfirmationInput.js';
import { Problems } from './ErrorList.js';
import { useMemberIds } from './useMemberIds.js';

/**
 * Meters that left by a plain leave and were found compromised later (stolen, tampered, resold):
 * their stale tokens could be rolled forward by a later-evicted insider (GREP.md §6), so their places
 * join the suspicion record. Nothing is sent, but every later removal costs more until a re-seed: the
 * operator sees by how much before typing the ids.
 */
export function SuspectAction() {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const { departed, serials, reload } = useMemberIds();
  const [text, setText] = useState('');
  const [preview, setPreview] = useState<{ readonly meters: readonly number[]; readonly cost: LeaveCostView | undefined } | undefined>(undefined);
  const [typed, setTyped] = useState('');
  const [result, setResult] = useState<SuspectView | undefined>(undefined);
  const parsed = useMemo(() => parseMeterIds(text, { known: departed, serials, unknown: 'did not leave the group by a plain leave' }), [text, departed, serials]);
  const gate = suspectGate(parsed.ids, parsed.problems, preview, typed);

  const showCost = async () => {
    setPreview(undefined);
    const meters = parsed.ids;
    // wrapped: an undefined cost (a group too small to size a leave) is an answer, not a failure
    const answer = await run(async () => ({ cost: await api.leaveCost(meters) }), 'what a leave will cost');
    if (answer) setPreview({ meters, cost: answer.cost });
  };
  const suspect = async () => {
    const done = await run(() => api.suspectDeparted(parsed.ids, { confirmation: typed }), 'suspect departed meters');
    if (done) {
      setResult(done);
      inform(`suspected departed meter(s) ${done.suspected.join(' ')}: the suspicion record holds ${done.record} meter(s); a re-seed empties it`);
      reload();
    }
  };

  return (
    <section className="panel form danger-zone" aria-label="Suspect departed meters">
      <h3>Suspect departed meters</h3>
      <p className="muted">
        For meters that left by a plain leave and were found compromised later. Their places join the suspicion record: no message is sent, and every later removal counts
        them until a re-seed.
      </p>
      <label>
        Departed meters: ids, ranges such as 100-180, or serials (comma, space or line separated)
        <textarea
          rows={2}
          data-testid="suspect-ids"
          value={text}
          disabled={result !== undefined}
          onChange={(e) => {
            setText(e.target.value);
            setPreview(undefined);
            setTyped('');
          }}
        />
      </label>
      <Problems problems={parsed.problems} testId="suspect-problems" />
      {parsed.summary !== '' && (
        <p className="review" data-testid="suspect-resolved">
          {parsed.summary}
        </p>
      )}
      <button type="button" data-testid="suspect-preview" disabled={busy || parsed.ids.length === 0 || parsed.problems.length > 0 || result !== undefined} onClick={() => void showCost()}>
        Show what a leave will cost
      </button>
      {preview !== undefined && (
        <>
          <p className="hint-box" data-testid="suspect-cost">
            {preview.cost === undefined ? 'The group is too small to size a leave.' : `With them suspected, ${suspectSentence(preview.cost)}.`}
          </p>
          <ConfirmationInput expected={suspectConfirmation(preview.meters)} typed={typed} onTyped={setTyped} testId="suspect" disabled={result !== undefined} />
        </>
      )}
      <div className="row">
        <button type="button" className="danger" data-testid="suspect-execute" disabled={!gate.enabled || busy || result !== undefined} onClick={() => void suspect()}>
          Suspect {parsed.ids.length} meter(s)
        </button>
        {!gate.enabled && result === undefined && <span className="hint">{gate.reason}</span>}
      </div>
      {result !== undefined && (
        <p className="result warn" data-testid="suspect-result">
          Suspected: {result.suspected.join(', ')}. The suspicion record holds {result.record} meter(s); a re-seed empties it.
        </p>
      )}
    </section>
  );
}
