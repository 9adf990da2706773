import { type Audience, FirmwareError, MAX_LISTED_AUDIENCE } from '../firmware/index.js';
import type { PackageRecord } from '../store/index.js';
import type { CampaignDriver } from './campaignDriver.js';
import { ServiceError } from './errors.js';

/**
 * Which meters a push addresses, checked before any campaign exists (GREP.md §10): current members of
 * the package's model, none twice, none still in another open campaign, and a sequence above the one
 * the model runs. Refusals come in this order, so an operator fixes the plainest mistake first.
 */

export interface PushRequest {
  readonly pkg: PackageRecord;
  /** the group's current members of the package's model */
  readonly eligible: ReadonlySet<number>;
  /** the meters the operator chose; every eligible one when absent */
  readonly meters: readonly number[] | undefined;
  /** the sequence the model's meters run now */
  readonly running: number;
  readonly drivers: Iterable<CampaignDriver>;
}

export function pushTargets({ pkg, eligible, meters, running, drivers }: PushRequest): { targets: readonly number[]; audience: Audience } {
  const targets = meters ?? [...eligible];
  if (new Set(targets).size !== targets.length) throw new ServiceError('DUPLICATE_METER', 'a meter is listed twice');
  const strangers = targets.filter((meter) => !eligible.has(meter));
  if (strangers.length > 0) throw new ServiceError('UNKNOWN_METER', `meters ${strangers.slice(0, 10).join(', ')}${strangers.length > 10 ? ', …' : ''} are not current members of model ${pkg.model}`);
  if (targets.length === 0) throw new ServiceError('EMPTY_SET', `the group has no member of model ${pkg.model}`);
  if (pkg.sequence <= running) throw new FirmwareError('ROLLBACK', `sequence ${pkg.sequence} is not above ${running}, which ${pkg.model} meters already run (rollback)`, 'sequence');
  for (const driver of drivers) {
    const busy = targets.filter((meter) => driver.open && (driver.state.meters[meter]?.state ?? 'failed') !== 'failed');
    // a meter has one inactive slot: a second campaign would overwrite the first one's image
    if (busy.length > 0) throw new ServiceError('CAMPAIGN_STATE', `meters ${busy.slice(0, 10).join(', ')} are in open campaign ${driver.id} (${driver.state.status}): cancel it or let it complete first`);
  }
  // a push naming part of the model lists them in the KEY frame, or the rest would take the image too
  const audience: Audience = meters && targets.length < eligible.size ? [...targets].sort((a, b) => a - b) : 'model';
  if (audience !== 'model' && audience.length > MAX_LISTED_AUDIENCE) {
    throw new ServiceError('BAD_INPUT', `a push to chosen meters names at most ${MAX_LISTED_AUDIENCE} of them (${audience.length} given): push to every ${pkg.model} meter, or in several campaigns`);
  }
  return { targets, audience };
}
