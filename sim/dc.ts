import { isFirmwareFrame } from '../main/firmware/blocks.js';
import type { FirmwareReport } from '../main/firmware/campaign.js';
import { encodeFirmwareReport } from '../main/firmware/report.js';
import { checkKey, type Outgoing } from '../main/grep/index.js';
import { type DcReport, type DcStatus, type LinkMessage, METER_REPORT_BYTES, type MeterReport } from '../main/link/messages.js';
import type { ConvergenceLink } from '../main/ops/convergence.js';
import { type Channel, type Clock, type FrameClass, SimulatedClock } from './channel.js';
import { isFirmwareReport, type MeterAnswer, type SimMeter } from './meter.js';

/**
 * The Data Concentrator's logic, without a transport: the network endpoint hands it each transfer from
 * the KM once (`handle`), it puts frames on the channel towards the meters (rekeys, commands and
 * firmware campaign frames alike) and relays their answers back in batches through `send`: rekey and
 * command reports as `report`, firmware reports as `firmware`. It tells the KM, batched the same way
 * (`aired`), when each transfer has finished on the medium, since on a slow medium that can be long after
 * it was accepted. It keeps the group key the KM gives it (§1: the DC is a group sender).
 *
 * Its QoS: rekeys, resyncs and group commands are control frames, firmware campaign frames (§10) bulk,
 * so an eviction during a rollout waits for the block on the air, not for the rest of the round.
 */

/** What the DC says to the KM (the endpoint's DcReport). */
export type DcToKm = DcReport;

export interface DcOptions {
  readonly channel: Channel;
  /** every meter on the medium, members or not: all of them hear every broadcast */
  readonly meters: ReadonlyMap<number, SimMeter>;
  /** towards the KM: the network endpoint's send, or the KM itself in-process */
  readonly send: (message: DcToKm) => void;
  /** reports and aired transfers are held this long (seconds) and sent together; default 0.05 */
  readonly reportBatchSeconds?: number;
  /** a batch goes at once when it holds this many; default 1000 */
  readonly maxBatch?: number;
  /** a batch goes at once before its encoded reports would pass this many bytes; default 48 KiB */
  readonly maxBatchBytes?: number;
  /** status every this many seconds; default none (status on request only) */
  readonly statusSeconds?: number;
  /** each report as the meter makes it, before the uplink may lose it: ground truth for traces and benchmarks */
  readonly onMeterReport?: (report: MeterReport, time: number) => void;
}

/** how often a real-time wait looks at the acks */
const POLL_MS = 5;
/** link frames carry at most 60 KiB (main/link/frame.ts): a batch leaves room for the message header and sealing */
const MAX_BATCH_BYTES = 48 * 1024;

/** Reports of one kind, held `seconds` and sent together, or sooner when the batch is full by count or by size. */
class ReportBatch<T> {
  private held: T[] = [];
  private bytes = 0;
  private armed = false;

  constructor(
    private readonly clock: Clock,
    private readonly seconds: number,
    private readonly limit: { readonly count: number; readonly bytes: number },
    private readonly wireBytes: (report: T) => number,
    private readonly sendAll: (reports: T[]) => void,
  ) {}

  get empty(): boolean {
    return this.held.length === 0;
  }

  add(report: T): void {
    const size = this.wireBytes(report);
    if (this.held.length > 0 && this.bytes + size > this.limit.bytes) this.flush();
    this.held.push(report);
    this.bytes += size;
    if (this.held.length >= this.limit.count) this.flush();
    else if (!this.armed) {
      this.armed = true;
      this.clock.at(this.clock.now() + this.seconds, () => {
        this.armed = false;
        this.flush();
      });
    }
  }

  flush(): void {
    if (this.held.length === 0) return;
    const reports = this.held;
    this.held = [];
    this.bytes = 0;
    this.sendAll(reports);
  }
}

/** The transmit class of a payload from the KM: firmware campaign frames give way to everything else. */
export function frameClassOf(payload: Uint8Array): FrameClass {
  return isFirmwareFrame(payload) ? 'bulk' : 'control';
}

/** error codes of the DC's `error` messages */
export const DcError = {
  UNKNOWN_METER: 1,
  NOT_FOR_DC: 2,
} as const;

export class DataConcentrator {
  private readonly channel: Channel;
  private readonly meters: ReadonlyMap<number, SimMeter>;
  private readonly send: (message: DcToKm) => void;
  private readonly onMeterReport: DcOptions['onMeterReport'];
  private readonly meterReports: ReportBatch<MeterReport>;
  private readonly firmwareReports: ReportBatch<FirmwareReport>;
  /** ids of transfers that have finished on the medium */
  private readonly aired: ReportBatch<number>;
  /** frames not yet delivered plus reports still on the uplink */
  private inFlight = 0;
  private kg: Uint8Array | undefined;
  private epochValue = 0;
  private closed = false;

  constructor(options: DcOptions) {
    this.channel = options.channel;
    this.meters = options.meters;
    this.send = options.send;
    this.onMeterReport = options.onMeterReport;
    const seconds = options.reportBatchSeconds ?? 0.05;
    const limit = { count: Math.min(options.maxBatch ?? 1000, 0xffff), bytes: options.maxBatchBytes ?? MAX_BATCH_BYTES };
    const clock = this.channel.clock;
    this.meterReports = new ReportBatch(clock, seconds, limit, () => METER_REPORT_BYTES, (reports) => this.send({ kind: 'report', reports }));
    // each firmware report travels behind its own u16 length
    this.firmwareReports = new ReportBatch(clock, seconds, limit, (report) => 2 + encodeFirmwareReport(report).length, (reports) => this.send({ kind: 'firmware', reports }));
    // the backlog as it stands when the batch leaves, not when its first transfer was aired
    this.aired = new ReportBatch(clock, seconds, limit, () => 4, (transfers) => this.send({ kind: 'aired', transfers, queued: this.channel.queued, queuedSeconds: this.channel.queuedSeconds }));
    if (options.statusSeconds !== undefined) this.everyStatus(options.statusSeconds);
  }

  get epoch(): number {
    return this.epochValue;
  }

  get groupKey(): Uint8Array | undefined {
    return this.kg;
  }

  /** Nothing on the medium, on the uplink or waiting in a batch. */
  get idle(): boolean {
    return this.inFlight === 0 && this.meterReports.empty && this.firmwareReports.empty && this.aired.empty;
  }

  handle(message: LinkMessage): void {
    switch (message.kind) {
      case 'broadcast': {
        const { payload } = message;
        this.inFlight++;
        this.channel.broadcast(payload.length, this.meters.keys(), (received) => {
          this.inFlight--;
          this.aired.add(message.transfer);
          for (const id of received) this.relay(this.meters.get(id)!.receive(payload));
        }, frameClassOf(payload));
        return;
      }
      case 'unicast': {
        const meter = this.meters.get(message.member);
        if (!meter) {
          this.send({ kind: 'error', code: DcError.UNKNOWN_METER, message: `transfer ${message.transfer}: no meter ${message.member} behind this DC` });
          return;
        }
        const { payload } = message;
        this.inFlight++;
        this.channel.unicast(payload.length, meter.id, (arrived) => {
          this.inFlight--;
          this.aired.add(message.transfer);
          if (arrived) this.relay(meter.receive(payload));
        }, frameClassOf(payload));
        return;
      }
      case 'keyUpdate':
        // a resend after a reconnect may bring an older key: never step back
        if (message.epoch < this.epochValue) return;
        this.kg = checkKey(message.kg, 'KG').slice();
        this.epochValue = message.epoch;
        return;
      default:
        this.send({ kind: 'error', code: DcError.NOT_FOR_DC, message: `a ${message.kind} message is not for the DC` });
    }
  }

  status(): DcStatus {
    return { meters: this.meters.size, queued: this.channel.queued, epoch: this.epochValue, airtimeSeconds: this.channel.airtimeSeconds, queuedSeconds: this.channel.queuedSeconds };
  }

  requestStatus(): void {
    this.send({ kind: 'status', status: this.status() });
  }

  /** Stops periodic status; flushes what is batched. */
  close(): void {
    this.closed = true;
    this.meterReports.flush();
    this.firmwareReports.flush();
    this.aired.flush();
  }

  // ---- stepping, simulated clock only ----

  /** Runs the simulated clock until the DC is idle. */
  run(): void {
    this.channel.simulated.runUntil(Number.POSITIVE_INFINITY, () => this.idle);
  }

  advance(seconds: number): void {
    this.channel.simulated.advance(seconds);
  }

  runUntil(deadline: number, satisfied?: () => boolean): boolean {
    return this.channel.simulated.runUntil(deadline, satisfied);
  }

  /** A meter's answer over the lossy uplink, into the batch of its kind. */
  private relay(answer: MeterAnswer | undefined): void {
    if (!answer) return;
    const firmware = isFirmwareReport(answer);
    if (!firmware) this.onMeterReport?.(answer, this.channel.clock.now());
    const arrives = this.channel.uplink(firmware ? answer.meter : answer.member, () => {
      this.inFlight--;
      if (firmware) this.firmwareReports.add(answer);
      else this.meterReports.add(answer);
    });
    if (arrives) this.inFlight++;
  }

  private everyStatus(seconds: number): void {
    if (!(seconds > 0)) throw new RangeError('status period must be positive');
    const tick = () => {
      if (this.closed) return;
      this.requestStatus();
      this.channel.clock.at(this.channel.clock.now() + seconds, tick);
    };
    this.channel.clock.at(this.channel.clock.now() + seconds, tick);
  }
}

/**
 * The KM's end of an in-process link to `dc`, for the convergence driver in tests, benchmarks and the
 * UI's simulated fleet: transfers numbered as the network endpoint would, time from the channel's clock
 * (channelClock). The DC's reports and airing reports reach the driver (Convergence.hear) through the `send` the DC was built with.
 */
export function inProcessLink(dc: DataConcentrator, channel: Channel): ConvergenceLink {
  let transfer = 0;
  return {
    send(message: Outgoing) {
      transfer++;
      dc.handle(message.to === 'all' ? { kind: 'broadcast', transfer, payload: message.bytes } : { kind: 'unicast', transfer, member: message.to, payload: message.bytes });
      // the id the DC's `aired` will name
      return transfer;
    },
    updateKey(epoch, kg) {
      dc.handle({ kind: 'keyUpdate', transfer: ++transfer, epoch, kg });
    },
    ...channelClock(channel),
  };
}

/**
 * The channel's time as the convergence driver waits on it. The DC says when each frame is on the air
 * (`aired`): a wait is a plain timer, cut short by what it hears. On the simulated clock it runs the
 * events it covers at once; in real time it polls.
 */
export function channelClock(channel: Channel): Pick<ConvergenceLink, 'wait' | 'now'> {
  return {
    wait(seconds, satisfied) {
      const deadline = channel.clock.now() + seconds;
      if (channel.clock instanceof SimulatedClock) {
        channel.clock.runUntil(deadline, satisfied);
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const poll = () => (satisfied() || channel.clock.now() >= deadline ? resolve() : setTimeout(poll, POLL_MS));
        poll();
      });
    },
    now: () => channel.clock.now(),
  };
}
