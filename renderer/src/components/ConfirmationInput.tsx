interface Props {
  /** the text to type exactly; the back end compares the same text again */
  readonly expected: string;
  readonly typed: string;
  readonly onTyped: (typed: string) => void;
  /** `${testId}-confirmation` for the input, `${testId}-confirmation-expected` for the text shown */
  readonly testId: string;
  readonly disabled?: boolean;
}

/** The deliberate step before a call that cannot be taken back: what to type, and the field to type it in. */
export function ConfirmationInput({ expected, typed, onTyped, testId, disabled }: Props) {
  return (
    <label className="confirm">
      <span>
        Type <code data-testid={`${testId}-confirmation-expected`}>{expected}</code> to confirm
      </span>
      <input type="text" autoComplete="off" spellCheck={false} data-testid={`${testId}-confirmation`} value={typed} disabled={disabled} onChange={(e) => onTyped(e.target.value)} />
    </label>
  );
}
