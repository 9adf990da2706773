import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditVerdictView, AuditView, CostChartView, DcProfileInput, DcProfileView, GrepEvent, GroupView, HistoryView, LinkView, SerialPortView, SessionInfo, Unsubscribe } from '../../preload/api.js';
import type { RunningSimulator } from '../../sim/simulator.js';
import { nodeRandom } from '../crypto/node.js';
import { readPublicKey } from '../firmware/keys.js';
import { fromHex } from '../grep/index.js';
import { listSerialPorts } from '../link/transport.js';
import { costChart } from '../ops/costs.js';
import { ServiceError } from '../ops/errors.js';
import { FirmwareService } from '../ops/firmware.js';
import { KeyManagerService } from '../ops/service.js';
import { type DcProfile, type GroupRecord, KmStore, type ScryptCost, StoreError } from '../store/index.js';
import { Actions } from './actions.js';
import { AppError } from './errors.js';
import { EventHub, throttle } from './events.js';
import { FirmwareCalls } from './firmwareCalls.js';
import { LinkWatch } from './linkWatch.js';
import { ensureGroup, saveProfile } from './setup.js';
import { SIMULATED_DEFAULTS, SIMULATED_PROFILE, type SimulatedDc, startEmbeddedSimulator } from './simulated.js';
import * as view from './views.js';

/*
 * The back end of one operator session, free of Electron: the desktop shell serves it over IPC, the
 * headless console over HTTP. Everything starts locked; unlock opens (or creates) the sealed store,
 * and only then is there a group, a DC link and the services. Views are built field by field
 * (views.ts): no node key or pairing key ever leaves through here.
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
const MIN_PASSPHRASE = 8;
const DEFAULT_VENDOR_KEY = join(import.meta.dirname, '../../resources/firmware/demo-vendor.pub');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Connected {
  readonly service: KeyManagerService;
  readonly firmware: FirmwareService;
  readonly detach: () => void;
}

export class Backend {
  readonly storePath: string;
  /** plan -> confirm -> execute (actions.ts) */
  readonly actions: Actions;
  readonly firmwareCalls: FirmwareCalls;
  private readonly events = new EventHub();
  private readonly watch: LinkWatch;
  private readonly groupChanged = throttle(() => this.emit({ type: 'group', epoch: this.epoch() }), 500);
  private readonly simulatedDc: SimulatedDc | undefined;
  private readonly groupName: string;
  private store: KmStore | undefined;
  private groupRecord: GroupRecord | undefined;
  private connected: Connected | undefined;
  private simulator: RunningSimulator | undefined;
  private fleetCsv: string | undefined;
  /** the demo vendor key the embedded meters trust */
  private vendorKey: Uint8Array | undefined;
  private failures = 0;
  /** unlocks run one after the other, so guesses cannot race the failure delay */
  private unlocking: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: BackendOptions) {
    this.storePath = join(options.dataDir, 'km.sqlite');
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
    const state = store ? 'ready' : existsSync(this.storePath) ? 'locked' : 'new';
    const summary = store && group ? view.groupSummary(group, this.epoch(), store.members(group.id).filter((m) => m.status === 'member').length) : undefined;
    return { state, storePath: this.storePath, simulated: this.simulatedDc !== undefined, group: summary };
  }

  unlock(passphrase: string): Promise<SessionInfo> {
    const run = this.unlocking.then(() => this.openStore(passphrase));
    this.unlocking = run.catch(() => undefined);
    return run;
  }

  private async openStore(passphrase: string): Promise<SessionInfo> {
    if (this.closed) throw new AppError('LOCKED', 'the back end is shutting down');
    if (this.store) return this.session();
    const creating = !existsSync(this.storePath);
    if (creating && passphrase.length < MIN_PASSPHRASE) throw new AppError('BAD_ARGUMENTS', `a new store needs a passphrase of at least ${MIN_PASSPHRASE} characters`);
    let store: KmStore;
    try {
      if (creating) mkdirSync(this.options.dataDir, { recursive: true, mode: 0o700 });
      store = creating ? KmStore.create(this.storePath, passphrase, this.options.scrypt) : KmStore.open(this.storePath, passphrase);
    } catch (error) {
      if (error instanceof StoreError && error.code === 'WRONG_PASSPHRASE') {
        // slows a guessing script down without annoying an operator who mistyped once
        this.failures++;
        await sleep((this.options.failureDelayMs ?? 500) * 2 ** Math.min(this.failures - 1, 4));
      }
      throw error;
    }
    this.failures = 0;
    try {
      if (creating) store.transaction(() => store.audit(this.options.actor, 'init store', { path: this.storePath }));
      this.store = store;
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
    await this.unlocking;
    await this.shutDown();
  }

  private async shutDown(): Promise<void> {
    this.groupChanged.cancel();
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
    saveProfile(store, input.transport === 'tcp' ? { ...input, pairingKey } : { ...input, pairingKey }, this.options.actor);
    return store.dcProfiles();
  }

  async serialPorts(): Promise<SerialPortView[]> {
    this.ready();
    return (await listSerialPorts()).map((port) => ({
      path: port.path,
      manufacturer: port.manufacturer ?? undefined,
      serialNumber: port.serialNumber ?? undefined,
      vendorId: port.vendorId ?? undefined,
      productId: port.productId ?? undefined,
    }));
  }

  async connect(name: string): Promise<LinkView> {
    const { store } = this.ready();
    const profile = store.dcProfile(name);
    if (!profile) throw new AppError('BAD_ARGUMENTS', `no DC profile named ${JSON.stringify(name)}`);
    this.idle();
    await this.closeServices();
    const link = this.watch.open(profile);
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

  private openServices(store: KmStore, link: NonNullable<LinkWatch['current']>): void {
    const { actor, ackTimeout } = this.options;
    let firmware: FirmwareService | undefined;
    const service = KeyManagerService.open({
      store,
      group: this.groupName,
      actor,
      link,
      ...(ackTimeout !== undefined ? { ackTimeout } : {}),
      onRemoved: (meters) => void firmware?.removeMeters(meters),
    });
    const onReport = (message: { kind: string }) => {
      if (message.kind === 'report') this.groupChanged.request();
    };
    link.on('message', onReport);
    const detach = () => link.off('message', onReport);
    try {
      firmware = FirmwareService.open({
        store,
        group: this.groupName,
        actor,
        link,
        groupKey: () => service.groupKey(),
        onProgress: (campaign) => this.emit({ type: 'campaign', campaign }),
      });
    } catch (error) {
      detach();
      service.close();
      throw error;
    }
    this.connected = { service, firmware, detach };
    // the embedded meters accept firmware signed by the demo vendor: staging trusts it too (audited once)
    if (this.vendorKey) firmware.trustKey('demo vendor (simulator)', this.vendorKey);
    // repairs what an earlier session left unacknowledged; the operator's own actions wait for it (BUSY)
    service.catchUp().then(
      () => this.changed(),
      (error: unknown) => console.warn('[backend] catch-up after connect:', (error as Error).message),
    );
  }

  private async closeServices(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    if (connected) {
      connected.detach();
      connected.firmware.close();
      connected.service.close();
    }
    await this.watch.close();
  }

  // ---- views ----

  async group(): Promise<GroupView> {
    const { store, group } = this.ready();
    const service = this.connected?.service;
    if (service) {
      const status = service.status();
      return view.groupView(group, status.epoch, status.meters);
    }
    return view.groupView(group, this.epoch(), view.storedMeters(store, group.id));
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

  private ready(): { store: KmStore; group: GroupRecord } {
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
