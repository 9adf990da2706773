/**
 * Log-scale bars for the cost chart: GREP, basic and LKH differ by orders of magnitude, so a linear
 * axis would flatten GREP's bar to nothing. Lengths run from 0 (1 byte or less) to `width` (the top
 * decade at or above the largest value).
 */
export interface LogScale {
  /** the upper end of the axis, a power of ten */
  readonly top: number;
  readonly length: (value: number) => number;
  /** powers of ten from 1 to top, with their position */
  readonly ticks: readonly { readonly value: number; readonly at: number }[];
}

export function logScale(values: readonly number[], width: number): LogScale {
  const max = Math.max(1, ...values.filter((v) => Number.isFinite(v)));
  const decades = Math.max(1, Math.ceil(Math.log10(max) - 1e-9));
  const top = 10 ** decades;
  const length = (value: number) => (value <= 1 ? 0 : (Math.log10(value) / decades) * width);
  const ticks = Array.from({ length: decades + 1 }, (_, d) => ({ value: 10 ** d, at: (d / decades) * width }));
  return { top, length, ticks };
}

/** 1234 -> "1.2 kB"; bytes stay exact below 1000 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}
