/** Keeps the header (if any) and the first `limit` data lines of a commissioning CSV. */
export function firstCsvLines(csv: string, limit: number): string {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '');
  const hasHeader = lines.length > 0 && !/^\d/.test(lines[0]!.trim());
  const head = hasHeader ? lines.slice(0, 1) : [];
  const body = lines.slice(head.length, head.length + Math.max(0, limit));
  return [...head, ...body].join('\n') + '\n';
}

export function countCsvLines(csv: string): number {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '');
  const hasHeader = lines.length > 0 && !/^\d/.test(lines[0]!.trim());
  return lines.length - (hasHeader ? 1 : 0);
}
