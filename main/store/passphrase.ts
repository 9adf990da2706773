/**
 * The one rule for a passphrase being set (a new store, from the console's gate or `grepctl init`; a
 * new backup): both doors used to differ, so a store made with `grepctl init` could be sealed under a
 * single character. Counted in characters as the sealing sees them (NFC), not in UTF-16 units.
 */
export const MIN_PASSPHRASE_CHARS = 8;

/** Why `passphrase` may not be set ("must be …", for the caller to name the passphrase), or undefined when it may. */
export function newPassphraseRefusal(passphrase: string): string | undefined {
  const chars = [...passphrase.normalize('NFC')].length;
  return chars < MIN_PASSPHRASE_CHARS ? `must be at least ${MIN_PASSPHRASE_CHARS} characters long` : undefined;
}
