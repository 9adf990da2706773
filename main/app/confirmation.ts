import type { CommandSelector } from '../grep/index.js';
import { AppError } from './errors.js';

/*
 * The typed confirmations of the calls that cannot be taken back: removing meters, suspecting departed
 * ones, re-seeding the group, switching the disconnector of every member, activating firmware. The
 * screen disables its button until the text matches, but the check that counts is made here, so a page
 * that skips its disabled button (or a script on the console's API) cannot run one of them by a click.
 */

/** What a plan shows as PlanView.confirmation: a stored plan or a fresh one, the same rule; undefined when a click is enough. */
export function planConfirmation(plan: { readonly operation: string; readonly affected: readonly number[]; readonly selector?: CommandSelector }, groupName: string): string | undefined {
  if (plan.operation === 'leave') return meterConfirmation(plan.affected);
  // each of these rekeys or switches the whole group: the group is named
  if (plan.operation === 'recover' || plan.operation === 'reseed' || (plan.operation === 'command' && plan.selector === 'all')) return groupName;
  return undefined;
}

/** The meters of a leave, or the departed meters to suspect: their ids as listed, joined by single spaces. */
export function meterConfirmation(meters: readonly number[]): string {
  return meters.join(' ');
}

/** Activation reboots every verified meter into the new image: the operator types which campaign. */
export function activationConfirmation(campaign: number): string {
  return String(campaign);
}

/** Refuses unless the operator typed exactly `expected` (nothing to type when it is undefined). */
export function requireConfirmation(expected: string | undefined, typed: string | undefined, what: string): void {
  if (expected !== undefined && typed !== expected) throw new AppError('CONFIRMATION', `the confirmation does not match: type exactly ${what}`);
}
