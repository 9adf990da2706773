/**
 * Hands text to the browser as a file download: a Blob behind an object URL clicked from a detached
 * anchor, so no navigation happens and the CSP (no data: links) is not involved. The URL is revoked
 * after the browser has had time to start reading it.
 */
export function downloadText(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "2026-11-25T03:00:00.000Z" -> "20261125-030000": a file-name stamp that sorts and has no colon. */
export function fileStamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}
