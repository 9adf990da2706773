/**
 * The shared medium between the Data Concentrator and its meters (PLC or RF, half-duplex from the DC's
 * side): the DC sends one frame at a time, so a broadcast costs one airtime whoever listens and each
 * unicast costs its own. Every listener loses a frame independently. Uplink reports (acks) travel with
 * latency and loss but are not charged airtime: this models a separate uplink slot, and keeps the
 * comparison between schemes about what the KM makes the DC send.
 *
 * The DC's transmitter keeps two classes of frames (its QoS): control (rekeys, resyncs, commands) and
 * bulk (firmware campaign frames). A control frame goes on the air before every bulk frame still
 * waiting, never cutting the frame already on the air; within a class frames keep their order. With a
 * single class this is plain FIFO, event for event.
 *
 * Two clocks: simulated (a virtual clock driven by an event queue, nothing waits: tests, benchmarks)
 * and real time (setTimeout pacing: the UI). The same seed gives the same losses in both.
 */

export interface ChannelConfig {
  /** downlink bit rate, bits per second */
  readonly bitRate: number;
  /** one-way latency in seconds, added to every delivery and every report */
  readonly latency: number;
  /** probability that a meter misses one downlink frame */
  readonly loss: number;
  /** probability that one report is lost on the way back; default: `loss` */
  readonly uplinkLoss?: number;
  readonly seed: number;
  readonly clock: 'simulated' | 'realtime';
}

/** Seconds since the channel started, and a way to act later. */
export interface Clock {
  now(): number;
  at(time: number, action: () => void): void;
}

interface Scheduled {
  readonly time: number;
  readonly order: number;
  readonly action: () => void;
}

/**
 * Virtual time: events run in (time, insertion) order, so a run is a pure function of the seed and the
 * calls made. Nothing ever sleeps.
 */
export class SimulatedClock implements Clock {
  private time = 0;
  private inserted = 0;
  private readonly heap: Scheduled[] = [];

  now(): number {
    return this.time;
  }

  at(time: number, action: () => void): void {
    const event = { time: Math.max(time, this.time), order: this.inserted++, action };
    const heap = this.heap;
    heap.push(event);
    for (let index = heap.length - 1; index > 0; ) {
      const parent = (index - 1) >> 1;
      if (!earlier(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  /**
   * Runs events up to `deadline`, stopping right after an event once `satisfied()` holds; the clock then
   * stands at that event, else at the deadline. Returns whether `satisfied()` held.
   */
  runUntil(deadline: number, satisfied: () => boolean = () => false): boolean {
    if (satisfied()) return true;
    while (this.heap.length > 0 && this.heap[0]!.time <= deadline) {
      const event = this.pop();
      this.time = event.time;
      event.action();
      if (satisfied()) return true;
    }
    if (deadline !== Number.POSITIVE_INFINITY) this.time = Math.max(this.time, deadline);
    return false;
  }

  /** Runs until nothing is scheduled; the clock stands at the last event. */
  run(): void {
    this.runUntil(Number.POSITIVE_INFINITY);
  }

  advance(seconds: number): void {
    this.runUntil(this.time + seconds);
  }

  private pop(): Scheduled {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let index = 0; ; ) {
        const left = 2 * index + 1;
        const right = left + 1;
        let first = index;
        if (left < heap.length && earlier(heap[left]!, heap[first]!)) first = left;
        if (right < heap.length && earlier(heap[right]!, heap[first]!)) first = right;
        if (first === index) break;
        [heap[index], heap[first]] = [heap[first]!, heap[index]!];
        index = first;
      }
    }
    return top;
  }
}

function earlier(a: Scheduled, b: Scheduled): boolean {
  return a.time < b.time || (a.time === b.time && a.order < b.order);
}

/** Wall-clock pacing for the UI. Timers are unref'd so a forgotten channel never keeps Node alive. */
export class RealTimeClock implements Clock {
  private readonly start = performance.now();

  now(): number {
    return (performance.now() - this.start) / 1000;
  }

  at(time: number, action: () => void): void {
    setTimeout(action, Math.max(0, (time - this.now()) * 1000)).unref();
  }
}

/** Uniform numbers in [0, 1) from a 32-bit seed (splitmix32): cheap enough for one draw per meter per frame. */
export function uniformStream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 0x1_0000_0000;
  };
}

/** `control` by default: a sender that never marks bulk gets plain FIFO. */
export type FrameClass = 'control' | 'bulk';

/** A frame queued or on the air: it holds the medium from `start` to `end`. */
interface Frame {
  readonly frameClass: FrameClass;
  start: number;
  end: number;
  readonly arrive: () => void;
}

function checkProbability(value: number, what: string): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${what} must be a probability in [0, 1]`);
}

export class Channel {
  readonly clock: Clock;
  private readonly config: ChannelConfig;
  private readonly uplinkLoss: number;
  private readonly draw: () => number;
  private busyUntil = 0;
  private airtime = 0;
  /** frames not yet fully sent, in the order they go on the air (one transmitter) */
  private readonly queue: Frame[] = [];
  private readonly unreachable = new Set<number>();

  constructor(config: ChannelConfig) {
    if (!(config.bitRate > 0)) throw new RangeError('bit rate must be positive');
    if (!(config.latency >= 0)) throw new RangeError('latency must be >= 0');
    checkProbability(config.loss, 'loss');
    this.uplinkLoss = config.uplinkLoss ?? config.loss;
    checkProbability(this.uplinkLoss, 'uplink loss');
    this.config = config;
    this.clock = config.clock === 'simulated' ? new SimulatedClock() : new RealTimeClock();
    this.draw = uniformStream(config.seed);
  }

  /** The virtual clock, for stepping; a real-time channel has none. */
  get simulated(): SimulatedClock {
    if (!(this.clock instanceof SimulatedClock)) throw new Error('stepping needs a channel with the simulated clock');
    return this.clock;
  }

  /** Seconds one frame of `bytes` occupies the medium. */
  airtimeOf(bytes: number): number {
    return (bytes * 8) / this.config.bitRate;
  }

  /** Total seconds the DC has kept the medium busy. */
  get airtimeSeconds(): number {
    return this.airtime;
  }

  /** When the medium will have carried every frame queued so far. */
  get idleAt(): number {
    return Math.max(this.busyUntil, this.clock.now());
  }

  /**
   * When the medium will have carried every frame of `frameClass` queued so far. For control frames this
   * comes before the bulk frames still waiting behind them.
   */
  idleFor(frameClass: FrameClass): number {
    if (frameClass === 'control') {
      for (let index = this.queue.length - 1; index >= 0; index--) {
        const frame = this.queue[index]!;
        if (frame.frameClass === 'control') return Math.max(frame.end, this.clock.now());
      }
      return this.clock.now();
    }
    return this.idleAt;
  }

  /** Frames queued or on the air. */
  get queued(): number {
    this.forgetSent();
    return this.queue.length;
  }

  /**
   * Seconds of airtime the frames queued or on the air still need, both classes. The transmitter never
   * idles while a frame waits (each starts when the one before ends, an overtaking control frame pushes
   * the rest back by its own airtime), so this is the time until the medium is free.
   */
  get queuedSeconds(): number {
    return Math.max(0, this.busyUntil - this.clock.now());
  }

  /** A meter that hears nothing and says nothing (unplugged, out of range) until set reachable again. */
  setReachable(meter: number, reachable: boolean): void {
    if (reachable) this.unreachable.delete(meter);
    else this.unreachable.add(meter);
  }

  /** One frame for every listener; `deliver` gets those that received it, at arrival time. */
  broadcast(bytes: number, listeners: Iterable<number>, deliver: (received: readonly number[]) => void, frameClass: FrameClass = 'control'): void {
    const received: number[] = [];
    for (const meter of listeners) if (this.hears(meter)) received.push(meter);
    this.transmit(bytes, frameClass, () => deliver(received));
  }

  /** One frame for one meter; `done` runs at arrival time, told whether the meter got it. */
  unicast(bytes: number, meter: number, done: (arrived: boolean) => void, frameClass: FrameClass = 'control'): void {
    const arrives = this.hears(meter);
    this.transmit(bytes, frameClass, () => done(arrives));
  }

  /** A report from `meter` to the DC; `deliver` runs only if it arrives, which the return value tells. */
  uplink(meter: number, deliver: () => void): boolean {
    if (this.unreachable.has(meter) || this.draw() < this.uplinkLoss) return false;
    this.clock.at(this.clock.now() + this.config.latency, deliver);
    return true;
  }

  /** Losses are drawn when the frame is queued, so they follow the order of calls, not of timers. */
  private hears(meter: number): boolean {
    return !this.unreachable.has(meter) && this.draw() >= this.config.loss;
  }

  private forgetSent(): void {
    const now = this.clock.now();
    while (this.queue.length > 0 && this.queue[0]!.end <= now) this.queue.shift();
  }

  private transmit(bytes: number, frameClass: FrameClass, arrive: () => void): void {
    const duration = this.airtimeOf(bytes);
    this.airtime += duration;
    this.forgetSent();
    const overtaken = frameClass === 'control' ? this.firstWaitingBulk() : this.queue.length;
    if (overtaken === this.queue.length) {
      const start = this.idleAt;
      const frame: Frame = { frameClass, start, end: start + duration, arrive };
      this.busyUntil = frame.end;
      this.queue.push(frame);
      this.schedule(frame);
      return;
    }
    // the control frame takes the first waiting bulk frame's turn; those behind it lose its airtime
    const start = this.queue[overtaken]!.start;
    const waiting = this.queue.slice(overtaken);
    this.queue.splice(overtaken, 0, { frameClass, start, end: start + duration, arrive });
    this.schedule(this.queue[overtaken]!);
    for (const frame of waiting) {
      frame.start += duration;
      frame.end += duration;
      this.schedule(frame);
    }
    this.busyUntil = this.queue.at(-1)!.end;
  }

  /**
   * Index of the first bulk frame not yet on the air, or the queue's length. Waiting frames are control
   * then bulk (control frames are put before waiting bulk frames, bulk frames at the end), so the
   * search walks back from the end over the waiting bulk frames only.
   */
  private firstWaitingBulk(): number {
    const now = this.clock.now();
    let index = this.queue.length;
    while (index > 0 && this.queue[index - 1]!.frameClass === 'bulk' && this.queue[index - 1]!.start > now) index--;
    return index;
  }

  /** A frame moved back leaves its earlier arrival behind as a no-op: the clock has no cancel. */
  private schedule(frame: Frame): void {
    const end = frame.end;
    this.clock.at(end + this.config.latency, () => {
      if (frame.end === end) frame.arrive();
    });
  }
}
