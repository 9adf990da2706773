import type { ExecutionView } from '../../../preload/api.js';
import { formatSeconds } from './costText.js';

/**
 * How an executed operation ended, in the operator's words: converged, or which of its meters are
 * still queued at the DC (with the airtime left), taken over by a later operation, or unreachable.
 * Only a converged operation reads as OK.
 */
export function executionOutcome(result: ExecutionView): { readonly ok: boolean; readonly code: string; readonly text: string } {
  if (result.converged) return { ok: true, code: 'OK', text: 'converged' };
  const parts: string[] = [];
  if (result.superseded) parts.push('continued by a later operation, which repairs the meters still behind');
  if (result.queuedAtDc.length > 0) parts.push(`${result.queuedAtDc.length} meter(s) still queued at the DC (about ${formatSeconds(result.dcQueuedSeconds)} of airtime left)`);
  if (result.unreachable.length > 0) parts.push(`${result.unreachable.length} unreachable`);
  return { ok: false, code: result.superseded ? 'CONTINUED' : 'NOT CONVERGED', text: `not converged: ${parts.join('; ')}` };
}
