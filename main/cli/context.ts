import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { CampaignSummary } from '../../preload/api.js';
import type { DcLink, LinkState } from '../link/client.js';
import { linkToDc } from '../ops/dcLink.js';
import { FirmwareService } from '../ops/firmware.js';
import { KeyManagerService } from '../ops/service.js';
import { type DcProfile, KmStore } from '../store/index.js';
import type { GlobalArgs } from './args.js';
import { CliError, ExitCode } from './errors.js';
import { passphrase } from './terminal.js';

/** What every command starts from: the store file, its group and DC profile, and the link to that DC. */

/** Recorded in the history and the audit log as who did it. */
export const actor = `${userInfo().username}@${hostname()} (grepctl)`;

/** grepctl waits no longer than this for a session with the DC before it reports the DC unreachable. */
const CONNECT_SECONDS = 10;

export function storePath(global: GlobalArgs): string {
  const path = global.db ?? process.env.GREP_DB;
  if (!path) throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', '--db: give the store file with --db <file> or set GREP_DB');
  return path;
}

/** How the writer lock names this process to another that finds the store busy: the subcommand's words. */
export const program = `grepctl ${process.argv.slice(2).filter((arg) => /^[a-z]+$/.test(arg)).slice(0, 2).join(' ')}`.trimEnd();

/**
 * Opens the store for `work` as its one writer (or, for the commands that only look, read-only and
 * without the lock) and closes it whatever happens, so SQLite never leaves its log behind.
 */
export async function withStore<T>(global: GlobalArgs, work: (store: KmStore) => Promise<T>, access: 'write' | 'read' = 'write'): Promise<T> {
  const path = storePath(global);
  if (!existsSync(path)) throw new CliError(ExitCode.store, 'NO_STORE', `${path} does not exist: create it with grepctl init --db ${path}`);
  const store = KmStore.open(path, await passphrase('GREP_PASSPHRASE', 'store passphrase'), access === 'read' ? { readOnly: true } : { writer: program });
  for (const warning of store.warnings) process.stderr.write(`grepctl: warning: ${warning}\n`);
  try {
    return await work(store);
  } finally {
    store.close();
  }
}

/*
 * The store has no listing of groups or DC profiles; the default ("the only one") is read from the
 * tables directly, names only, nothing sealed.
 */
const names = (store: KmStore, table: 'groups' | 'dc_profiles'): string[] =>
  (store.db.prepare(`SELECT name FROM ${table} ORDER BY name`).all() as { name: string }[]).map((row) => row.name);

export function groupIds(store: KmStore): number[] {
  return (store.db.prepare('SELECT id FROM groups ORDER BY id').all() as { id: number }[]).map((row) => row.id);
}

function onlyOne(store: KmStore, table: 'groups' | 'dc_profiles', flag: string, create: string): string {
  const all = names(store, table);
  if (all.length === 1) return all[0]!;
  if (all.length === 0) throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', `--${flag}: the store has none yet: ${create}`);
  throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', `--${flag}: the store has several (${all.join(', ')}): name one`);
}

export function groupName(store: KmStore, global: GlobalArgs): string {
  return global.group ?? onlyOne(store, 'groups', 'group', 'grepctl group create --name <n> --planned-size <n>');
}

/** --dc, else the DC the group is bound to (grepctl group bind), else the only profile. */
export function dcProfile(store: KmStore, global: GlobalArgs, group: string): DcProfile {
  const name = global.dc ?? store.groupDc(group) ?? onlyOne(store, 'dc_profiles', 'dc', 'grepctl dc add --name <n> --tcp host:port --pairing-key <file>');
  const profile = store.dcProfile(name);
  if (!profile) throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', `--dc: no DC profile named ${JSON.stringify(name)}`);
  return profile;
}

export const dcAddress = (profile: DcProfile): string =>
  profile.transport === 'tcp' ? `tcp ${profile.host}:${profile.port}` : `serial ${profile.path} at ${profile.baud} baud`;

/** Starts the link and waits for an authenticated session; a refusal of our pairing key is final. */
export function connect(link: DcLink, profile: DcProfile, timeoutSeconds: number): Promise<void> {
  const seconds = Math.min(timeoutSeconds, CONNECT_SECONDS);
  return new Promise((resolve, reject) => {
    let last = '';
    const finish = (error?: CliError) => {
      clearTimeout(timer);
      link.off('state', onState);
      if (error) reject(error);
      else resolve();
    };
    const onState = (state: LinkState) => {
      if (state.state === 'up') finish();
      else if (state.state === 'refused') finish(new CliError(ExitCode.dcUnreachable, 'DC_REFUSED', `the DC at ${dcAddress(profile)} refused the pairing key of profile ${profile.name}: ${state.reason.message}`));
      else if (state.state === 'down') last = `: ${state.reason.message}`;
    };
    const timer = setTimeout(() => finish(new CliError(ExitCode.dcUnreachable, 'DC_UNREACHABLE', `no session with the DC at ${dcAddress(profile)} within ${seconds} s${last}`)), seconds * 1000);
    link.on('state', onState);
    link.start();
  });
}

export interface KeyManagerSession {
  readonly store: KmStore;
  readonly group: string;
  readonly profile: DcProfile;
  /** not started: connect() starts it, for the commands that send */
  readonly link: DcLink;
  readonly service: KeyManagerService;
}

/** The group's Key Manager service over the link to its DC; the service is closed and the link stopped whatever `work` does. */
export function withKeyManager<T>(global: GlobalArgs, work: (session: KeyManagerSession) => Promise<T>): Promise<T> {
  return withStore(global, async (store) => {
    const group = groupName(store, global);
    const profile = dcProfile(store, global, group);
    const link = linkToDc(profile);
    const service = KeyManagerService.open({ store, group, actor, link });
    try {
      return await work({ store, group, profile, link, service });
    } finally {
      service.close();
      await link.stop();
    }
  });
}

export interface FirmwareSession {
  readonly group: string;
  readonly firmware: FirmwareService;
  /** the link is only started by commands that send: the others work with the DC down */
  connect(): Promise<void>;
}

/**
 * The firmware service of the group, beside the Key Manager service whose group key wraps each
 * campaign's content key. Both are closed, and the link stopped, whatever `work` does.
 */
export function withFirmware<T>(global: GlobalArgs, onProgress: (summary: CampaignSummary) => void, work: (session: FirmwareSession) => Promise<T>): Promise<T> {
  return withKeyManager(global, async ({ store, group, profile, link, service }) => {
    const firmware = FirmwareService.open({ store, group, actor, link, groupKey: () => service.groupKey(), onProgress });
    try {
      return await work({ group, firmware, connect: () => connect(link, profile, global.timeout) });
    } finally {
      firmware.close();
    }
  });
}
