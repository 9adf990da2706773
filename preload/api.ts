/**
 * THE contract between the renderer and the back end (the Electron main process, or the headless
 * console). One function type per call; `Channel` names the IPC channel of each. Both ends are built
 * from `GrepApi`, so a call added here without a channel, a preload binding or a main handler does
 * not compile. Events flow the other way through one subscription (`subscribe`), typed by GrepEvent.
 *
 * This file is types plus constants and imports nothing: the sandboxed preload bundles it and the
 * renderer sees only its types. Everything crossing it is plain JSON data (bytes as hex or base64
 * strings), so the same contract serves IPC and HTTP.
 *
 * Failures reject with an Error carrying a `code` (ApiErrorCode, or the service's own code such as
 * UNKNOWN_METER, STALE_PLAN, BUSY) and a message meant for the operator.
 */

export interface AppInfo {
  readonly name: string;
  readonly version: string;
  /** GREP wire protocol version the back end speaks (main/grep/wire.ts PROTOCOL_VERSION). */
  readonly protocolVersion: number;
}

// ---- session: the store is sealed under a passphrase; nothing else works until it is unlocked ----

export interface SessionInfo {
  /** 'new': no store yet, unlock creates it; 'locked': a store exists; 'ready': unlocked */
  readonly state: 'new' | 'locked' | 'ready';
  /** the store's file */
  readonly storePath: string;
  /** the embedded simulated DC is running (no --dc given) */
  readonly simulated: boolean;
  readonly group: GroupSummary | undefined;
}

export interface GroupSummary {
  readonly id: number;
  readonly name: string;
  readonly epoch: number;
  readonly members: number;
  readonly subgroupCap: number;
  /** the KM's Ed25519 public key, hex: what meters are commissioned with */
  readonly kmPublicKey: string;
}

// ---- connection ----

export type DcProfileInput =
  | { readonly name: string; readonly transport: 'tcp'; readonly host: string; readonly port: number; readonly pairingKey: string }
  | { readonly name: string; readonly transport: 'serial'; readonly path: string; readonly baud: number; readonly pairingKey: string };

/** A profile as shown: never the pairing key. */
export type DcProfileView =
  | { readonly name: string; readonly transport: 'tcp'; readonly host: string; readonly port: number }
  | { readonly name: string; readonly transport: 'serial'; readonly path: string; readonly baud: number };

export interface SerialPortView {
  readonly path: string;
  readonly manufacturer: string | undefined;
  readonly serialNumber: string | undefined;
  readonly vendorId: string | undefined;
  readonly productId: string | undefined;
}

export type LinkState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

export interface LinkView {
  readonly profile: string | undefined;
  readonly state: LinkState;
  /** the last error, with its hint (e.g. "add yourself to the dialout group") */
  readonly detail: string | undefined;
  /** ISO time of the last state change */
  readonly since: string;
  /** transfers handed to the DC and not yet accepted */
  readonly pending: number;
  /** the DC's last status; `queued` frames wait for its medium, about `queuedSeconds` of airtime (its backlog) */
  readonly dc: { readonly meters: number; readonly queued: number; readonly epoch: number; readonly airtimeSeconds: number; readonly queuedSeconds: number } | undefined;
  /**
   * Bits per second on the DC's medium, for airtime estimates: the embedded simulator's rate; undefined
   * for any other DC, whose status does not report it (the screens then say the airtime is unknown).
   */
  readonly bitRate: number | undefined;
}

// ---- group ----

export type SyncStatus = 'in sync' | 'lagging' | 'unreachable' | 'unknown' | 'removed';

export interface MemberView {
  readonly meterId: number;
  readonly serial: string;
  readonly model: string;
  readonly subgroup: number;
  readonly position: number;
  readonly joinedEpoch: number;
  readonly removedEpoch: number | null;
  readonly status: 'member' | 'left' | 'recovered';
  readonly sync: SyncStatus;
  readonly ackedEpoch: number | null;
  /** ISO time of the meter's last report */
  readonly lastAck: string | null;
  /** the running version the meter reported after its latest firmware activation; null when none is known */
  readonly firmware: string | null;
  /** its disconnector as its last command confirmation reported it (this session); null when none was heard */
  readonly disconnector: DisconnectorState | null;
}

export type DisconnectorState = 'open' | 'closed';

/** A member's sync in its detail: 'unknown' while it has not reported since it joined (or since it was last marked). */
export type MemberSyncView = SyncStatus | 'unknown';

/** One operation that touched a meter, from the history. */
export interface MemberOperationView {
  readonly historyId: number;
  readonly operation: string;
  readonly epochFrom: number;
  readonly epochTo: number;
  readonly actor: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** 'named': the operation listed this meter (its commissioning, a leave, recovery, resync or command naming it); 'group': it rekeyed or commanded the whole group while the meter was a member */
  readonly relation: 'named' | 'group';
  /** the result as it concerns this meter: a long list of other meters is counted, not listed */
  readonly result: string;
}

export interface MemberDetailView {
  readonly member: MemberView;
  readonly groupEpoch: number;
  readonly sync: MemberSyncView;
  /** epochs between the meter's acked epoch and the group's; null when it never acked or is no longer a member */
  readonly epochsBehind: number | null;
  /** the version it reported after activating, and in which campaign; undefined when none is known */
  readonly firmware: { readonly version: string; readonly campaignId: number } | undefined;
  /** from its last command confirmation heard since the back end started: the state, the command's seq and when */
  readonly disconnector: { readonly state: DisconnectorState; readonly seq: number; readonly at: string } | undefined;
  /** newest first, one page from `operationsOffset`; up to its removal for a meter that left */
  readonly operations: readonly MemberOperationView[];
  readonly operationsOffset: number;
  readonly operationsTotal: number;
}

export interface MemberDetailOptions {
  /** operations to skip, newest first: the page after the first */
  readonly offset?: number;
}

export interface GroupView {
  readonly group: GroupSummary;
  /** every meter ever commissioned, removed ones included (status says which) */
  readonly members: readonly MemberView[];
}

// ---- history ----

export interface HistoryView {
  readonly id: number;
  readonly planId: string;
  readonly operation: string;
  readonly epochFrom: number;
  readonly epochTo: number;
  readonly messages: Readonly<Record<string, number>>;
  readonly bytes: number;
  readonly actor: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly result: string;
}

export interface SchemeCostView {
  readonly broadcasts: number;
  readonly unicasts: number;
  readonly bytes: number;
}

export interface CostView {
  readonly grep: SchemeCostView;
  readonly basic: SchemeCostView;
  readonly lkh: SchemeCostView;
}

/** What one join, one leave and a 3-meter recovery would cost this group now, by scheme. */
export interface CostChartView {
  readonly members: number;
  readonly join: CostView | undefined;
  readonly leave: CostView | undefined;
  readonly recover3: CostView | undefined;
}

// ---- actions: plan -> confirm -> execute ----

export type Operation = 'commission' | 'leave' | 'recover' | 'periodic' | 'resync' | 'reseed' | 'command';

/** How meters are commissioned (GREP.md §4, §7): one join each, one batch join, or a compact re-seed of the whole group. */
export type CommissionMethod = 'joins' | 'batch' | 'reseed';

export interface CommissionOptionView extends SchemeCostView {
  readonly method: CommissionMethod;
}

/** What the suspicion record (GREP.md §6) adds to a removal; a re-seed would clear it. */
export interface RecordAddsView extends SchemeCostView {
  /** positions in the record this removal counts as colluders */
  readonly entries: number;
}

export interface CommissionMeterInput {
  readonly id: number;
  readonly serial: string;
  readonly model: string;
  /** 32 hex digits */
  readonly nodeKey: string;
}

export interface PlanView {
  readonly id: string;
  readonly operation: Operation;
  readonly epoch: number;
  readonly affected: readonly number[];
  readonly messages: Readonly<Record<string, number>>;
  readonly broadcasts: number;
  readonly unicasts: number;
  readonly bytes: number;
  readonly costs: CostView;
  /** CSV lines left out, by number, with the reason */
  readonly rejected: readonly { readonly line: number; readonly reason: string }[];
  /** a removal while the suspicion record is not empty: what the record adds to it */
  readonly recordAdds: RecordAddsView | undefined;
  /** a recovery: meters that left earlier by a plain leave, suspected with it (no message reaches them) */
  readonly departed: readonly number[];
  /** a commissioning: the method chosen, and every method sized, cheapest first */
  readonly commissioning: { readonly method: CommissionMethod; readonly options: readonly CommissionOptionView[] } | undefined;
  /**
   * What the operator must type to run it, checked again by the back end: the meter id for a
   * single leave, the ids joined by spaces for several, the group name for a recovery, a re-seed and
   * a command to every member; undefined when a click is enough (commission, periodic, resync, a
   * command to listed meters).
   */
  readonly confirmation: string | undefined;
}

/**
 * What one plain leave of a typical member costs (a member with neighbours on both sides, where there
 * is one: the dearest plain leave): the price of the suspicion record, weighed against a re-seed.
 */
export interface LeaveCostView {
  /** the member sized */
  readonly meter: number;
  /** meters in the suspicion record now (removed as suspects, or departed and suspected later) */
  readonly record: number;
  /** the same leave with an empty record, as after a re-seed */
  readonly plain: SchemeCostView;
  /** with the record as it is */
  readonly now: SchemeCostView;
  /** with the departed meters asked about added to the record (as `now` when none were given) */
  readonly withSuspects: SchemeCostView;
}

/** Departed meters put into the suspicion record (suspectDeparted). */
export interface SuspectView {
  readonly suspected: readonly number[];
  /** meters in the record now */
  readonly record: number;
}

/**
 * The text the operator typed before a call that cannot be taken back, compared exactly (no trimming,
 * no case folding) by the back end: PlanView.confirmation for executeCommand, the campaign id in
 * decimal digits for activateCampaign, the meter ids joined by single spaces for suspectDeparted. A
 * missing or different text is refused with code CONFIRMATION.
 */
export interface ConfirmOptions {
  readonly confirmation?: string;
}

export interface ExecuteOptions extends ConfirmOptions {
  /** commission the valid CSV lines although some were rejected */
  readonly acceptRejected?: boolean;
}

export interface ExecutionView {
  readonly planId: string;
  readonly epochFrom: number;
  readonly epoch: number;
  readonly converged: boolean;
  /** a later operation took over its convergence: the members behind are repaired with that one */
  readonly superseded: boolean;
  /** members with nothing left for them at the DC that never confirmed */
  readonly unreachable: readonly number[];
  /** members whose frames still wait in the DC's queue */
  readonly queuedAtDc: readonly number[];
  /** the DC's backlog in seconds of airtime at its last report */
  readonly dcQueuedSeconds: number;
  readonly resyncs: number;
}

/**
 * An operation committed and still being sent and acknowledged, as the back end knows it: a page
 * opened or reloaded mid-operation shows it from runningOperations() and the 'operations' event.
 */
export interface RunningOperationView {
  readonly planId: string;
  readonly operation: Operation;
  /** ISO time it committed */
  readonly startedAt: string;
  /** the epoch it committed (a command runs at the current one) */
  readonly epoch: number;
  /** current members */
  readonly members: number;
  /** members holding `epoch`: a rekey's acknowledgements; undefined for a command, whose confirmations only the service counts */
  readonly acked: number | undefined;
  /** the latest progress line */
  readonly message: string;
}

export interface CommandRequestInput {
  readonly action: 'open' | 'close';
  /** 'all': every current member, each named in the plan's affected list */
  readonly meters: 'all' | readonly number[];
}

export interface CommandResultView {
  readonly planId: string;
  readonly seq: number;
  readonly action: 'open' | 'close';
  readonly confirmed: readonly number[];
  readonly missing: readonly number[];
  readonly resends: number;
}

// ---- firmware ----

/** 'trust': the target model's meters are recorded to trust the key that signed the package (the Key Manager's record, not a meter's check) */
export type StagingCheckName = 'format' | 'signature' | 'size' | 'digest' | 'model' | 'sequence' | 'trust';

export interface CheckView {
  readonly check: StagingCheckName;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly detail: string;
}

export interface ManifestView {
  readonly vendor: string;
  readonly model: string;
  readonly version: string;
  readonly sequence: number;
  readonly size: number;
  /** SHA-256 of the image, hex */
  readonly digest: string;
}

export interface PackageView {
  readonly id: number;
  readonly manifest: ManifestView;
  /** SHA-256 of the whole package file, hex */
  readonly packageDigest: string;
  readonly stagedAt: string;
}

/** Staging never throws for a bad package: the checks say why, and `staged` is then undefined. */
export interface StagingView {
  readonly checks: readonly CheckView[];
  readonly manifest: ManifestView | undefined;
  readonly staged: PackageView | undefined;
  /** what did not refuse the package but should stop the operator before a push */
  readonly warnings: readonly StagingWarning[];
}

/** MODEL_TRUST_UNRECORDED: nobody recorded which keys the package's model trusts, so the trust check could not run */
export interface StagingWarning {
  readonly code: 'MODEL_TRUST_UNRECORDED';
  readonly message: string;
}

export interface ModelTrustInput {
  readonly model: string;
  /** Ed25519 public key, hex */
  readonly publicKey: string;
  /** needed only for a key staging does not trust yet */
  readonly label?: string;
}

/** The vendor keys one meter model's meters were provisioned to trust, as recorded in the Key Manager. */
export interface ModelTrustView {
  readonly model: string;
  /** current members of the group of this model */
  readonly members: number;
  /** empty: no record, so staging warns (MODEL_TRUST_UNRECORDED) instead of refusing */
  readonly keys: readonly TrustedKeyView[];
}

export interface TrustedKeyView {
  readonly label: string;
  /** Ed25519 public key, hex */
  readonly publicKey: string;
  readonly addedAt: string;
}

export type CampaignStatus = 'created' | 'distributing' | 'paused' | 'distributed' | 'activating' | 'completed' | 'cancelled';
export type MeterCampaignState = 'pending' | 'receiving' | 'verified' | 'activated' | 'failed';

export interface CampaignSummary {
  readonly id: number;
  readonly packageId: number;
  readonly manifest: ManifestView;
  readonly status: CampaignStatus;
  readonly blockSize: number;
  readonly totalBlocks: number;
  readonly round: number;
  readonly counts: Readonly<Record<MeterCampaignState, number>>;
  readonly meters: number;
  /** downlink bytes handed to the DC for this campaign so far */
  readonly sentBytes: number;
  readonly createdAt: string;
  /** blocks the meters have reported holding (their last answers), of meters × totalBlocks */
  readonly blocksAcknowledged: number;
  /** the current round's frames on the DC's medium, live from the DC's `aired` reports */
  readonly onAir: CampaignOnAir;
  /** why the campaign is paused or not moving and what clears it; undefined while it moves */
  readonly note: CampaignNote | undefined;
}

export interface CampaignOnAir {
  /** frames of the current round handed to the DC */
  readonly frames: number;
  /** of those, the frames the DC reported finished on the air since this back end started */
  readonly aired: number;
  /** seconds of airtime the DC's queue held at its last report; undefined before one */
  readonly dcQueueSeconds: number | undefined;
}

export interface CampaignNote {
  /** 'paused': the campaign is paused; 'waiting': it runs but cannot go on (the DC link is down) */
  readonly kind: 'paused' | 'waiting';
  readonly by: 'operator' | 'driver';
  readonly reason: string;
  /** true: it goes on by itself once the reason clears; false: the operator has to act (Resume or Cancel) */
  readonly resumesItself: boolean;
  readonly since: string;
}

export interface CampaignMeterView {
  readonly meterId: number;
  readonly state: MeterCampaignState;
  readonly received: number;
  readonly reason: string | undefined;
  readonly version: string | undefined;
}

export interface CampaignView extends CampaignSummary {
  readonly perMeter: readonly CampaignMeterView[];
}

export interface PushInput {
  readonly packageId: number;
  /** default: every member of the package's model */
  readonly meters?: readonly number[];
  /** bytes per block, default 256 */
  readonly blockSize?: number;
}

// ---- audit ----

export interface AuditView {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  /** the row's detail as stored (JSON text) */
  readonly detail: string;
  readonly hash: string;
}

export type AuditVerdictView = { readonly ok: true; readonly rows: number } | { readonly ok: false; readonly rows: number; readonly problem: string };

// ---- events ----

export type GrepEvent =
  | { readonly type: 'link'; readonly link: LinkView }
  /** members, sync states or the epoch changed: refetch the group view */
  | { readonly type: 'group'; readonly epoch: number }
  /** a new history row, or one finished */
  | { readonly type: 'history' }
  | { readonly type: 'campaign'; readonly campaign: CampaignSummary }
  /** what a long call (execute, executeCommand) is doing now, for a progress line */
  | { readonly type: 'progress'; readonly planId: string; readonly message: string }
  /** the operations being sent and acknowledged changed (one started, progressed or finished): all of them now */
  | { readonly type: 'operations'; readonly operations: readonly RunningOperationView[] };

export type Unsubscribe = () => void;

// ---- the calls ----

/** What `window.grep` offers. Every call returns a Promise; `subscribe` returns its own unsubscribe. */
export interface GrepApi {
  readonly appInfo: () => Promise<AppInfo>;
  readonly session: () => Promise<SessionInfo>;
  /** Creates the store on first use (passphrase of 8+ characters), opens it otherwise; wrong passphrase: code WRONG_PASSPHRASE. */
  readonly unlock: (passphrase: string) => Promise<SessionInfo>;

  readonly dcProfiles: () => Promise<readonly DcProfileView[]>;
  readonly saveDcProfile: (profile: DcProfileInput) => Promise<readonly DcProfileView[]>;
  readonly serialPorts: () => Promise<readonly SerialPortView[]>;
  readonly connect: (profile: string) => Promise<LinkView>;
  readonly disconnect: () => Promise<LinkView>;
  readonly linkState: () => Promise<LinkView>;

  readonly group: () => Promise<GroupView>;
  readonly history: () => Promise<readonly HistoryView[]>;
  readonly costChart: () => Promise<CostChartView>;
  /** one meter ever commissioned into the group, left or not; code UNKNOWN_METER for any other */
  readonly memberDetail: (meterId: number, options?: MemberDetailOptions) => Promise<MemberDetailView>;

  readonly planCommission: (meters: readonly CommissionMeterInput[]) => Promise<PlanView>;
  readonly planCommissionCsv: (csv: string) => Promise<PlanView>;
  readonly planLeave: (meters: readonly number[]) => Promise<PlanView>;
  /** Suspects present and departed (left earlier by a plain leave) alike; PlanView.departed names the departed ones. */
  readonly planRecover: (suspected: readonly number[]) => Promise<PlanView>;
  /** fresh keys and tokens for every member and an empty suspicion record; confirmed by typing the group name */
  readonly planReseed: () => Promise<PlanView>;
  /** sends each listed member the group's current state again (a meter found behind); a click confirms it */
  readonly planResync: (meters: readonly number[]) => Promise<PlanView>;
  /** what a plain leave costs now, and with `departed` suspected too; undefined when the group has fewer than 2 members */
  readonly leaveCost: (departed?: readonly number[]) => Promise<LeaveCostView | undefined>;
  /** departed meters found compromised later join the suspicion record, no message sent; confirmed by typing the ids joined by single spaces */
  readonly suspectDeparted: (meters: readonly number[], options: ConfirmOptions) => Promise<SuspectView>;
  readonly planCommand: (request: CommandRequestInput) => Promise<PlanView>;
  readonly execute: (planId: string, options: ExecuteOptions) => Promise<ExecutionView>;
  readonly executeCommand: (planId: string, options: ConfirmOptions) => Promise<CommandResultView>;
  /** what is being sent and acknowledged now, oldest first: empty when nothing runs */
  readonly runningOperations: () => Promise<readonly RunningOperationView[]>;
  /** the embedded simulator's commissioning CSV (id,serial,model,nodeKey); undefined against a real DC */
  readonly simulatedFleetCsv: () => Promise<string | undefined>;

  readonly trustedKeys: () => Promise<readonly TrustedKeyView[]>;
  readonly trustKey: (label: string, publicKey: string) => Promise<readonly TrustedKeyView[]>;
  readonly modelTrust: () => Promise<readonly ModelTrustView[]>;
  /** records that the model's meters trust the key, and trusts it for staging (a key already trusted keeps its label; a new one needs `label`) */
  readonly trustKeyForModel: (input: ModelTrustInput) => Promise<readonly ModelTrustView[]>;
  /** the package file as base64 */
  readonly stageFirmware: (packageBase64: string) => Promise<StagingView>;
  readonly firmwarePackages: () => Promise<readonly PackageView[]>;
  readonly pushFirmware: (input: PushInput) => Promise<CampaignSummary>;
  readonly campaigns: () => Promise<readonly CampaignSummary[]>;
  readonly campaign: (id: number) => Promise<CampaignView>;
  readonly pauseCampaign: (id: number) => Promise<CampaignSummary>;
  readonly resumeCampaign: (id: number) => Promise<CampaignSummary>;
  readonly cancelCampaign: (id: number) => Promise<CampaignSummary>;
  /** switches every verified meter to the new image: confirmed by typing the campaign id */
  readonly activateCampaign: (id: number, options: ConfirmOptions) => Promise<CampaignSummary>;

  readonly auditLog: () => Promise<readonly AuditView[]>;
  readonly verifyAudit: () => Promise<AuditVerdictView>;

  readonly subscribe: (listener: (event: GrepEvent) => void) => Unsubscribe;
}

/** The request/response calls; `subscribe` is the event stream, wired apart. */
export type CallName = Exclude<keyof GrepApi, 'subscribe'>;

export const Channel = {
  appInfo: 'grep:app-info',
  session: 'grep:session',
  unlock: 'grep:unlock',
  dcProfiles: 'grep:dc-profiles',
  saveDcProfile: 'grep:save-dc-profile',
  serialPorts: 'grep:serial-ports',
  connect: 'grep:connect',
  disconnect: 'grep:disconnect',
  linkState: 'grep:link-state',
  group: 'grep:group',
  history: 'grep:history',
  costChart: 'grep:cost-chart',
  memberDetail: 'grep:member-detail',
  planCommission: 'grep:plan-commission',
  planCommissionCsv: 'grep:plan-commission-csv',
  planLeave: 'grep:plan-leave',
  planRecover: 'grep:plan-recover',
  planReseed: 'grep:plan-reseed',
  planResync: 'grep:plan-resync',
  leaveCost: 'grep:leave-cost',
  suspectDeparted: 'grep:suspect-departed',
  planCommand: 'grep:plan-command',
  execute: 'grep:execute',
  executeCommand: 'grep:execute-command',
  runningOperations: 'grep:running-operations',
  simulatedFleetCsv: 'grep:simulated-fleet-csv',
  trustedKeys: 'grep:trusted-keys',
  trustKey: 'grep:trust-key',
  modelTrust: 'grep:model-trust',
  trustKeyForModel: 'grep:trust-key-for-model',
  stageFirmware: 'grep:stage-firmware',
  firmwarePackages: 'grep:firmware-packages',
  pushFirmware: 'grep:push-firmware',
  campaigns: 'grep:campaigns',
  campaign: 'grep:campaign',
  pauseCampaign: 'grep:pause-campaign',
  resumeCampaign: 'grep:resume-campaign',
  cancelCampaign: 'grep:cancel-campaign',
  activateCampaign: 'grep:activate-campaign',
  auditLog: 'grep:audit-log',
  verifyAudit: 'grep:verify-audit',
} as const satisfies Record<CallName, `grep:${string}`>;

/** main -> renderer: every GrepEvent, on one channel. */
export const EVENT_CHANNEL = 'grep:event';

/** Error codes of the API layer itself (argument checks), besides the service's own. */
export type ApiErrorCode = 'UNKNOWN_CALL' | 'BAD_ARGUMENTS' | 'LOCKED' | 'NOT_CONNECTED' | 'CONFIRMATION' | 'TOO_LARGE';

declare global {
  interface Window {
    /** Exposed by preload/index.ts; absent in a plain browser with no back end attached. */
    readonly grep?: GrepApi;
  }
}
