/**
 * Escaping of text that came from outside (a DC's error frame, a meter's
 * serial, a CSV field) before it reaches a log, an event, a terminal or a
 * file a person will read.
 *
 * Why: such text is chosen by whoever sent it. A raw ESC starts a terminal
 * control sequence (clear the screen, move the cursor, retitle the window),
 * CR/LF let it forge a whole extra log line ("link up"), C1 controls are
 * single-byte equivalents of ESC sequences on some terminals, and bidi
 * controls reorder what is displayed so that the text reads differently from
 * what it is (CVE-2021-42574, "Trojan Source"). Escaping them makes every such
 * character visible as `\xHH` / `\uHHHH` instead of acting on the reader.
 *
 * Backslash itself is left alone on purpose: the output is for display, not
 * for decoding, and ordinary data (a Windows path in a CSV field) must come
 * out as written. The only goal is that nothing in the text acts on the
 * display.
 */

/**
 * C0 controls (including TAB, LF, CR, ESC), DEL, C1 controls (including NEL),
 * the line and paragraph separators, and every Unicode bidi control
 * (ALM, LRM, RLM, LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control character replaced by a visible `\xHH` or `\uHHHH` escape. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeOne);
}
