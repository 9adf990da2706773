import { useMemo } from 'react';
import { compressRanges, meterCount, splitMeterLists } from '../logic/meterLists.js';

/**
 * A record text (a History result, an audit detail) with each long meter list shown as its count,
 * "412 meters", opening on demand to the ids as ranges ("1-180, 200, 205-210"). `open` shows them
 * opened, as the details panel does.
 */
export function MeterText({ text, open = false, testId }: { readonly text: string; readonly open?: boolean; readonly testId: string }) {
  const parts = useMemo(() => splitMeterLists(text), [text]);
  return (
    <>
      {parts.map((part, i) =>
        'text' in part ? (
          part.text
        ) : (
          <details key={i} className="meter-list" open={open} data-testid={`${testId}-meters`}>
            <summary>{meterCount(part.meters)}</summary>
            <span className="meter-ranges" data-testid={`${testId}-ranges`}>
              {compressRanges(part.meters)}
            </span>
          </details>
        ),
      )}
    </>
  );
}
