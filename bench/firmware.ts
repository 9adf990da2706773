/**
 * Airtime of one firmware image to a whole group over a lossy shared medium: the encrypted multicast
 * campaign with erasure-coded repair (issue 13, 'coded'), the same campaign with missing-block repair
 * (GREP.md §10, 'multicast': meter models without erasure support), against the DLMS image-transfer
 * baseline, where each meter gets its own transfer of every block with a per-block ack and retry.
 * `npm run bench:firmware -- --meters 1000 --image-kib 256 --loss 0.01 --rate 5000 [--latency 0.02]
 * [--block 256] [--generation 64] [--margin 1] [--seed 1] [--json]`. Everything runs in one process on
 * the simulated clock: the real campaign engine, the real frame codec and erasure code, the channel
 * model and every meter's real receiving slot.
 *
 * airBytes: downlink bytes the DC put on the medium (uplink acks and reports are not charged, as in
 * bench:fleet); passes: airBytes over one framed pass (key, every block, a query); simSeconds: until
 * every meter holds a verified image (or the transfer gave up); decodeBytes: what a meter holds to
 * decode one generation (erasure.ts), 0 without a code.
 */
import { nodeCrypto } from '../main/crypto/node.js';
import { campaignCounts } from '../main/firmware/campaign.js';
import { DEFAULT_REPAIR_MARGIN } from '../main/firmware/codedRounds.js';
import { DEFAULT_GENERATION_SIZE } from '../main/firmware/coding.js';
import { erasureDecodingBytes, MAX_GENERATION_SIZE, recoverGeneration, repairSymbol } from '../main/firmware/erasure.js';
import { type FirmwarePackage, pack, parse } from '../main/firmware/package.js';
import { equalBytes, seededRandom } from '../main/grep/index.js';
import { firmwareGroup, type FirmwareGroup } from '../sim/firmwareGroup.js';
import { parseBenchArgs, printTable } from './report.js';

export interface FirmwareRow {
  mode: 'coded' | 'multicast' | 'unicast';
  meters: number;
  imageBytes: number;
  airBytes: number;
  passes: number;
  simSeconds: number;
  allVerified: boolean;
  decodeBytes: number;
}

interface Settings {
  readonly meters: number;
  readonly 'image-kib': number;
  readonly loss: number;
  readonly rate: number;
  readonly latency: number;
  readonly block: number;
  readonly generation: number;
  readonly margin: number;
  readonly seed: number;
}

const MODEL = 'GX-110 single-phase';
const CAMPAIGN = 1;

function setup(settings: Settings) {
  const random = seededRandom(settings.seed ^ 0x5eed);
  const vendorKey = random(32);
  const image = random(settings['image-kib'] * 1024);
  const pkg = parse(pack(nodeCrypto, image, { vendor: 'Bench Meters', model: MODEL, version: '2.0.0', sequence: 2 }, vendorKey));
  const group = firmwareGroup({
    seed: settings.seed,
    meters: settings.meters,
    model: MODEL,
    factory: { running: { version: '1.0.0', sequence: 1 }, vendorKeys: [nodeCrypto.publicKey(vendorKey)] },
    crypto: nodeCrypto,
    loss: settings.loss,
    rate: settings.rate,
    latency: settings.latency,
  });
  return { pkg, group };
}

function everyoneHolds(group: FirmwareGroup, pkg: FirmwarePackage): boolean {
  return [...group.fleet.meters.values()].every((meter) => {
    const slot = meter.firmware.slot;
    return slot?.state === 'verified' && slot.image !== undefined && equalBytes(slot.image, pkg.image);
  });
}

/** Key, every block and a query, once: the least any multicast campaign sends. */
function onePass(group: FirmwareGroup, pkg: FirmwarePackage, settings: Settings): number {
  const sealer = group.sealer({ campaign: CAMPAIGN, pkg, blockSize: settings.block, generationSize: 'none' });
  const blocks = Array.from({ length: sealer.totalBlocks }, (_, index) => sealer.block(index).length);
  return sealer.key(group.km.epoch, group.km.groupKey()).length + blocks.reduce((sum, bytes) => sum + bytes, 0) + sealer.query(1).length;
}

function row(mode: FirmwareRow['mode'], settings: Settings, measured: { group: FirmwareGroup; pkg: FirmwarePackage; airBytes: number; allVerified: boolean; decodeBytes: number }): FirmwareRow {
  const { group, pkg, airBytes, allVerified, decodeBytes } = measured;
  const passes = Math.round((airBytes / onePass(group, pkg, settings)) * 1000) / 1000;
  return { mode, meters: settings.meters, imageBytes: pkg.image.length, airBytes, passes, simSeconds: round(group.channel.clock.now()), allVerified, decodeBytes };
}

function multicast(settings: Settings, coded: boolean): FirmwareRow {
  const { pkg, group } = setup(settings);
  const runner = group.campaign({ campaign: CAMPAIGN, pkg, blockSize: settings.block, generationSize: coded ? settings.generation : 'none', repairMargin: settings.margin });
  const state = runner.settle();
  const allVerified = state.status === 'distributed' && campaignCounts(state).verified === settings.meters && everyoneHolds(group, pkg);
  const decodeBytes = coded ? erasureDecodingBytes(settings.generation, settings.block) : 0;
  return row(coded ? 'coded' : 'multicast', settings, { group, pkg, airBytes: runner.airBytes, allVerified, decodeBytes });
}

/**
 * DLMS image transfer, one meter after the other: the key frame then every block, each sent until the
 * meter's ack comes back (a lost frame and a lost ack both cost a resend after the timeout). The frames
 * are the campaign's own, sealed once: per-meter keys would change no byte count.
 */
function unicast(settings: Settings): FirmwareRow {
  const { pkg, group } = setup(settings);
  const { channel, fleet, km } = group;
  const sealer = group.sealer({ campaign: CAMPAIGN, pkg, blockSize: settings.block });
  const frames = [sealer.key(km.epoch, km.groupKey()), ...Array.from({ length: sealer.totalBlocks }, (_, index) => sealer.block(index))];
  const clock = channel.simulated;
  const timeout = 2 * settings.latency + 0.05;
  const ids = [...fleet.meters.keys()];
  let airBytes = 0;
  let finished = 0;
  const send = (meterIndex: number, frameIndex: number): void => {
    if (frameIndex === frames.length) {
      finished++;
      if (meterIndex + 1 < ids.length) send(meterIndex + 1, 0);
      return;
    }
    const id = ids[meterIndex]!;
    const bytes = frames[frameIndex]!;
    let acked = false;
    airBytes += bytes.length;
    channel.unicast(bytes.length, id, (arrived) => {
      if (arrived) {
        fleet.get(id).firmware.receive(bytes);
        channel.uplink(id, () => {
          acked = true;
          send(meterIndex, frameIndex + 1);
        });
      }
      clock.at(clock.now() + timeout, () => acked || send(meterIndex, frameIndex));
    });
  };
  send(0, 0);
  clock.runUntil(Number.POSITIVE_INFINITY, () => finished === ids.length);
  return row('unicast', settings, { group, pkg, airBytes, allVerified: everyoneHolds(group, pkg), decodeBytes: 0 });
}

/** A meter's decoding work for one generation that lost every source block: k repair symbols, the k×k solve. */
function worstDecodeMs(settings: Settings): number {
  const random = seededRandom(settings.seed);
  const k = settings.generation;
  const sources = Array.from({ length: k }, () => random(settings.block));
  const repairs = Array.from({ length: k }, (_, index) => ({ symbol: k + index, bytes: repairSymbol(k, sources, k + index) }));
  const started = performance.now();
  const runs = 5;
  for (let run = 0; run < runs; run++) recoverGeneration(k, new Array<undefined>(k).fill(undefined), repairs);
  return (performance.now() - started) / runs;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

function main(): void {
  const args = parseBenchArgs(process.argv.slice(2), {
    flags: {
      meters: { value: 1000, min: 2, max: 100_000, integer: true },
      'image-kib': { value: 256, min: 1, max: 16 * 1024, integer: true },
      loss: { value: 0.01, min: 0, max: 0.5 },
      rate: { value: 5000, min: 100, max: 1e9 },
      latency: { value: 0.02, min: 0, max: 10 },
      block: { value: 256, min: 16, max: 65535, integer: true },
      generation: { value: DEFAULT_GENERATION_SIZE, min: 1, max: MAX_GENERATION_SIZE, integer: true },
      margin: { value: DEFAULT_REPAIR_MARGIN, min: 0, max: 64, integer: true },
      seed: { value: 1, min: 0, max: 0xffffffff, integer: true },
    },
  });
  const rows: FirmwareRow[] = [];
  for (const measure of [(settings: Settings) => multicast(settings, true), (settings: Settings) => multicast(settings, false), unicast]) {
    rows.push(measure(args.flags));
    if (!args.json) process.stderr.write(`measured ${rows.at(-1)!.mode} on ${args.flags.meters} meters\n`);
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  printTable(rows, ['mode', 'meters', 'imageBytes', 'airBytes', 'passes', 'simSeconds', 'allVerified', 'decodeBytes']);
  const [coded, blocks, one] = rows as [FirmwareRow, FirmwareRow, FirmwareRow];
  process.stdout.write(`unicast / coded airtime = ${(one.airBytes / coded.airBytes).toFixed(1)}x; unicast / block-repair multicast = ${(one.airBytes / blocks.airBytes).toFixed(1)}x\n`);
  process.stdout.write(`decoding one generation of ${args.flags.generation} lost blocks on this CPU: ${worstDecodeMs(args.flags).toFixed(2)} ms\n`);
}

main();
