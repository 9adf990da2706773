import { join } from 'node:path';
import type {
  AuditVerdictView,
  AuditView,
  CostChartView,
  DcProfileInput,
  DcProfileView,
  GrepEvent,
  GroupView,
  HistoryView,
  LinkView,
  MemberDetailOptions,
  MemberDetailView,
  SerialPortView,
  SessionInfo,
  Unsubscribe,
} from '../../preload/api.js';
import type { RunningSimulator } from '../../sim/simulator.js';
import { MODEL_GENERATION_SIZE } from '../../sim/fleet.js';
import { nodeRandom } from '../crypto/node.js';
import { readPublicKey } from '../firmware/keys.js';
import { fromHex } from '../grep/index.js';
import type { DcLink } from '../link/client.js';
import { listSerialPorts } from '../link/transport.js';
import { costChart } from '../ops/costs.js';
import { ServiceError } from '../ops/errors.js';
import type { FirmwareService } from '../ops/firmware.js';
import type { KeyManagerService } from '../ops/service.js';
import { type DcProfile, type GroupRecord, type KmStore, type ScryptCost, StoreError } from '../store/index.js';
import { firmwareVersions } from '../store/memberQueries.js';
import { Actions } from './actions.js';
import { type DcServices, openDcServices } from './dcServices.js';
import { DisconnectorStates } from './disconnectors.js';
import { AppError } from './errors.js';
import { EventHub, throttle } from './events.js';
import { FirmwareCalls } from './firmwareCalls.js';
import { LinkWatch } from './linkWatch.js';
import { memberDetailView } from './memberDetail.js';
import { ensureGroup, saveProfile } from './setup.js';
import { SIMULATED_DEFAULTS, SIMULATED_PROFILE, type SimulatedDc, startEmbeddedSimulator } from './simulated.js';
import { StoreGate } from './storeGate.js';
import * as view from './views.js';

/*
 * The back end of one operator session, free of Electron: the desktop shell serves it over IPC, the
 * headless console over HTTP. Everything starts locked; unlock opens (or creates) the sealed store
 * (storeGate.ts), and only then is there a group, a DC link and the services (dcServices.ts). Views
 * are built field by field (views.ts): no node key or pairing key ever leaves through here.
 */

export interface BackendOptions {
  /** where km.sqlite lives; created 0700 on first unlock */
  readonly dataDir: string;
  /** run the embedded simulated DC (no real DC given) */
  readonly simulated?: Partial<SimulatedDc> | undefined;
  /** a real DC, saved as the profile "command line" and connected after unlock */
  readonly dc?: DcProfileSpec | undefined;
  readonly groupName?: string;
  /** who is operating, for the history and the audit log */
  readonly actor: string;
  /** the demo vendor key trusted when the embedded simulator runs */
  readonly vendorKeyFile?: string;
  /** tests: a cheaper key derivation and a short convergence wait */
  readonly scrypt?: ScryptCost;
  readonly ackTimeout?: number;
  /** delay after the first wrong passphrase; doubles with each further one, up to 16× */
  readonly failureDelayMs?: number;
}

export type DcProfileSpec = Omit<Extract<DcProfile, { transport: 'tcp' }>, 'name'> | Omit<Extract<DcProfile, { transport: 'serial' }>, 'name'>;

export const COMMAND_LINE_PROFILE = 'command line';
const DEFAULT_GROUP = 'substation-1';
const DEFAULT_PLANNED_SIZE = 200;
const STORE_WATCH_MS = 1000;
const DEFAULT_VENDOR_KEY = join(import.meta.dirname, '../../resources/firmware/demo-vendor.pub');

export class Backend {
  readonly storePath: string;
  /** plan -> confirm -> execute (actions.ts) */
  readonly actions: Actions;
  readonly firmwareCalls: FirmwareCalls;
  private readonly events = new EventHub();
  private readonly watch: LinkWatch;
  private readonly groupChanged = throttle(() => this.emit({ type: 'group', epoch: this.epoch() }), 500);
  private readonly simulatedDc: SimulatedDc | undefined;
  /** what the meters' command confirmations said, across reconnects of this session */
  private readonly groupName: string;
  private store: KmStore | undefined;
  private groupRecord: GroupRecord | undefined;
  private connected: DcServices | undefined;
  private simulator: RunningSimulator | undefined;
  private fleetCsv: string | undefined;
  /** the demo vendor key the embedded meters trust */
  private vendorKey: Uint8Array | undefined;
  private readonly gate: StoreGate;
  private closed = false;
  /** looks for the store's files being deleted or replaced under it (KmStore.filesProblem) */
  private storeWatch: NodeJS.Timeout | undefined;
  /** why the back end stopped operating, once the store's files were found gone */
  private storeProblem: string | undefined;

  constructor(private readonly options: BackendOptions) {
    this.storePath = join(options.dataDir, 'km.sqlite');
    this.gate = new StoreGate({ dataDir: options.dataDir, storePath: this.storePath, program: options.actor, scrypt: options.scrypt, failureDelayMs: options.failureDelayMs });
    const given = Object.fromEntries(Object.entries(options.simulated ?? {}).filter(([, value]) => value !== undefined));
    this.simulatedDc = options.simulated && !options.dc ? { ...SIMULATED_DEFAULTS, ...given } : undefined;
    this.groupName = options.groupName ?? DEFAULT_GROUP;
    this.watch = new LinkWatch((link) => this.emit({ type: 'link', link }));
    const emit = (event: GrepEvent) => this.emit(event);
    this.actions = new Actions({
      groupName: this.groupName,
      service: () => this.service(),
      ready: () => this.ready(),
      epoch: () => this.epoch(),
      emit,
      changed: () => this.changed(),
    });
    this.firmwareCalls = new FirmwareCalls(() => this.firmware(), emit);
  }

  subscribe(listener: (event: GrepEvent) => void): Unsubscribe {
    return this.events.subscribe(listener);
  }

  // ---- session ----

  async session(): Promise<SessionInfo> {
    const { store, groupRecord: group } = this;
    const state = store ? 'ready' : this.gate.exists ? 'locked' : 'new';
    const epoch = this.epoch();
    const summary = store && group ? view.groupSummary(group, epoch, store.memberCounts(group.id, epoch).members) : undefined;
    return { state, storePath: this.storePath, simulated: this.simulatedDc !== undefined, group: summary };
  }

  unlock(passphrase: string): Promise<SessionInfo> {
    return this.gate.inTurn(() => this.openStore(passphrase));
  }

  private async openStore(passphrase: string): Promise<SessionInfo> {
    if (this.closed) throw new AppError('LOCKED', 'the back end is shutting down');
    if (this.store) return this.session();
    const { store, created } = await this.gate.open(passphrase);
    try {
      if (created) store.transaction(() => store.audit(this.options.actor, 'init store', { path: this.storePath }));
      this.store = store;
      for (const warning of store.warnings) process.stderr.write(`warning: ${warning}\n`);
      this.storeWatch = setInterval(() => this.checkStoreFiles(), STORE_WATCH_MS).unref();
      this.groupRecord = ensureGroup(store, this.groupName, this.simulatedDc?.meters ?? DEFAULT_PLANNED_SIZE, this.options.actor);
      await this.startDc(store, this.groupRecord);
    } catch (error) {
      await this.shutDown();
      throw error;
    }
    return this.session();
  }

  /** The embedded simulator, or the DC given on the command line; otherwise the operator picks a profile. */
  private async startDc(store: KmStore, group: GroupRecord): Promise<void> {
    if (this.simulatedDc) {
      const pairingKey = store.dcProfile(SIMULATED_PROFILE)?.pairingKey ?? nodeRandom(32);
      this.vendorKey = readPublicKey(this.options.vendorKeyFile ?? DEFAULT_VENDOR_KEY);
      this.simulator = await startEmbeddedSimulator(this.simulatedDc, group, pairingKey, this.vendorKey);
      this.fleetCsv = this.simulator.fleet.toCsv();
      saveProfile(store, { name: SIMULATED_PROFILE, transport: 'tcp', host: '127.0.0.1', port: this.simulator.endpoint.tcpPort!, pairingKey }, this.options.actor);
      await this.connect(SIMULATED_PROFILE);
    } else if (this.options.dc) {
      saveProfile(store, { ...this.options.dc, name: COMMAND_LINE_PROFILE } as DcProfile, this.options.actor);
      await this.connect(COMMAND_LINE_PROFILE);
    }
  }

  /** Stops the link, the services and the simulator and closes the store. */
  async close(): Promise<void> {
    this.closed = true;
    await this.gate.idle();
    await this.shutDown();
  }

  private async shutDown(): Promise<void> {
    this.groupChanged.cancel();
    clearInterval(this.storeWatch);
    await this.closeServices();
    await this.simulator?.close();
    this.simulator = undefined;
    this.store?.close();
    this.store = undefined;
    this.groupRecord = undefined;
  }

  // ---- connection ----

  async dcProfiles(): Promise<DcProfileView[]> {
    return this.ready().store.dcProfiles();
  }

  async saveDcProfile(input: DcProfileInput): Promise<DcProfileView[]> {
    const { store } = this.ready();
    const pairingKey = fromHex(input.pairingKey);
    saveProfile(store, { ...input, pairingKey }, this.options.actor);
    return store.dcProfiles();
  }

  async serialPorts(): Promise<SerialPortView[]> {
    this.ready();
    return (await listSerialPorts()).map(view.serialPortView);
  }

  async connect(name: string): Promise<LinkView> {
    const { store } = this.ready();
    const profile = store.dcProfile(name);
    if (!profile) throw new AppError('BAD_ARGUMENTS', `no DC profile named ${JSON.stringify(name)}`);
    this.idle();
    await this.closeServices();
    const link = this.watch.open(profile, this.simulatedRate(profile));
    try {
      this.openServices(store, link);
    } catch (error) {
      await this.closeServices();
      throw error;
    }
    return this.watch.view();
  }

  async disconnect(): Promise<LinkView> {
    this.ready();
    this.idle();
    await this.closeServices();
    return this.watch.view();
  }

  async linkState(): Promise<LinkView> {
    this.ready();
    return this.watch.view();
  }

  /** The rate is known only for a link to the simulator this process runs (a profile may be renamed or re-pointed). */
  private simulatedRate(profile: DcProfile): number | undefined {
    const endpoint = this.simulator?.endpoint;
    const runs = endpoint !== undefined && profile.transport === 'tcp' && profile.host === '127.0.0.1' && profile.port === endpoint.tcpPort;
    return runs ? this.simulatedDc?.rate : undefined;
  }

  private openServices(store: KmStore, link: DcLink): void {
    this.connected = openDcServices(
      {
        store,
        group: this.groupName,
        actor: this.options.actor,
        ackTimeout: this.options.ackTimeout,
        vendorKey: this.vendorKey,
        // the simulated meters decode erasure-coded repair; a real DC's models are not known to
        erasureModels: this.simulator ? MODEL_GENERATION_SIZE : undefined,
        onReport: (reports) => {
          new DisconnectorStates(store, this.ready().group.id).observe(reports);
          this.groupChanged.request();
        },
        onProgress: (campaign) => this.emit({ type: 'campaign', campaign }),
        onCaughtUp: () => this.changed(),
      },
      link,
    );
  }

  private async closeServices(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    connected?.close();
    await this.watch.close();
  }

  // ---- views ----

  async group(): Promise<GroupView> {
    const { store, group } = this.ready();
    const firmware = firmwareVersions(store.db, group.id);
    const disconnectors = new DisconnectorStates(store, group.id).all();
    return view.groupView(group, this.epoch(), store.meterStatuses(group.id), (meterId) => ({ firmware: firmware.get(meterId)?.version, disconnector: disconnectors.get(meterId)?.state }));
  }

  async memberDetail(meterId: number, options: MemberDetailOptions = {}): Promise<MemberDetailView> {
    const { store, group } = this.ready();
    return memberDetailView({ store, group, epoch: this.epoch(), disconnectors: new DisconnectorStates(store, group.id) }, meterId, options.offset);
  }

  async history(): Promise<HistoryView[]> {
    const { store, group } = this.ready();
    return store.history(group.id).map(view.historyView);
  }

  async costChart(): Promise<CostChartView> {
    const { store } = this.ready();
    return view.costChartView(costChart(store, this.groupName));
  }

  async auditLog(): Promise<AuditView[]> {
    return view.auditView(this.ready().store);
  }

  async verifyAudit(): Promise<AuditVerdictView> {
    return view.auditVerdictView(this.ready().store.verifyAudit());
  }

  async simulatedFleetCsv(): Promise<string | undefined> {
    this.ready();
    return this.fleetCsv;
  }

  // ---- guards ----

  /**
   * A store whose files were deleted or replaced keeps only in this process what it commits: stop
   * the DC link at once, so nothing is sent that the store could not keep, and refuse every call
   * with the reason until the operator restarts on a good store.
   */
  private checkStoreFiles(): void {
    const problem = this.storeProblem ? undefined : this.store?.filesProblem();
    if (!problem) return;
    this.storeProblem = problem;
    process.stderr.write(`the Key Manager stopped operating: ${problem}\n`);
    void this.closeServices();
  }

  private ready(): { store: KmStore; group: GroupRecord } {
    if (this.storeProblem) throw new StoreError('STORE_REPLACED', `the Key Manager stopped operating: ${this.storeProblem}; restart it on a good store (restore from a backup if needed)`);
    if (!this.store || !this.groupRecord) throw new AppError('LOCKED', 'the store is locked: unlock it with its passphrase first');
    return { store: this.store, group: this.groupRecord };
  }

  private service(): KeyManagerService {
    this.ready();
    if (!this.connected) throw new AppError('NOT_CONNECTED', 'no DC connected: connect to a DC profile first');
    return this.connected.service;
  }

  private idle(): void {
    if (this.actions.busy) throw new ServiceError('BUSY', 'an operation is still being sent and acknowledged: wait for it before changing the DC link');
  }

  private firmware(): FirmwareService {
    this.service();
    return this.connected!.firmware;
  }

  private epoch(): number {
    return this.connected?.service.epoch ?? (this.store && this.groupRecord ? this.store.group(this.groupRecord.name).epoch : 0);
  }

  private changed(): void {
    this.emit({ type: 'history' });
    this.groupChanged.request();
  }

  private emit(event: GrepEvent): void {
    this.events.emit(event);
  }
}
