/** Display helpers shared by the screens. */
export function formatMessages(messages: Readonly<Record<string, number>>): string {
  const entries = Object.entries(messages).filter(([, n]) => n > 0);
  return entries.length === 0 ? '—' : entries.map(([kind, n]) => `${kind} ×${n}`).join(', ');
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/*
 * What toLocaleString(undefined, { hour12: false }) prints, from one formatter: toLocaleString builds
 * a new one per call (~0.2 ms), too slow to index the times of a 3,000-row log for search.
 */
const TIME = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hour12: false });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : TIME.format(date);
}

/**
 * The code and message of a failed call. Electron's contextBridge keeps only an Error's message, so
 * the preload leads it with "[CODE] "; the console transport sets `code` on the Error itself.
 */
export function errorText(error: unknown): { readonly code: string; readonly message: string } {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    if (typeof code === 'string') return { code, message: error.message.replace(`[${code}] `, '') };
    const led = /^\[([A-Z_]+)\] ([\s\S]*)$/.exec(error.message);
    return led ? { code: led[1]!, message: led[2]! } : { code: error.name, message: error.message };
  }
  return { code: 'ERROR', message: String(error) };
}

export function isHex(text: string, length?: number): boolean {
  return /^[0-9a-fA-F]*$/.test(text) && text.length % 2 === 0 && text.length > 0 && (length === undefined || text.length === length);
}

/** ArrayBuffer -> base64 without a data: URL round trip; chunks keep apply() under the argument limit. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
