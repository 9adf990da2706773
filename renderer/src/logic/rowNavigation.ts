/**
 * Keyboard selection in a table (the WAI-ARIA grid pattern, by rows): the index a key moves the
 * selection to, or undefined when the key is not a move. With nothing selected yet, any move selects
 * the first row (End the last), so the first key press always lands somewhere visible.
 */
export function movedRow(key: string, current: number | undefined, count: number, pageRows: number): number | undefined {
  if (count === 0) return undefined;
  const last = count - 1;
  const from = current === undefined || current < 0 || current > last ? undefined : current;
  const clamp = (index: number) => Math.min(last, Math.max(0, index));
  const page = Math.max(1, pageRows);
  switch (key) {
    case 'ArrowDown':
      return from === undefined ? 0 : clamp(from + 1);
    case 'ArrowUp':
      return from === undefined ? 0 : clamp(from - 1);
    case 'PageDown':
      return from === undefined ? 0 : clamp(from + page);
    case 'PageUp':
      return from === undefined ? 0 : clamp(from - page);
    case 'Home':
      return 0;
    case 'End':
      return last;
    default:
      return undefined;
  }
}
