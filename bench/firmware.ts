/**
 * Airtime of one firmware image to a whole group over a lossy shared medium: the encrypted multicast
 * campaign with missing-block repair (GREP.md §10) against the DLMS image-transfer baseline, where each
 * meter gets its own transfer of every block with a per-block ack and retry.
 * `npm run bench:firmware -- --meters 1000 --image-kib 256 --loss 0.01 --rate 5000 [--latency 0.02]
 * [--block 256] [--seed 1] [--json]`. Everything runs in one process on the simulated clock: the real
 * campaign engine, the real frame codec, the channel model and every meter's real receiving slot.
 *
 * airBytes: downlink bytes the DC put on the medium (uplink acks and bitmaps are not charged, as in
 * bench:fleet); simSeconds: until every meter holds a verified image (or the transfer gave up).
 */
import { nodeCrypto } from '../main/crypto/node.js';
import { campaignCounts } from '../main/firmware/campaign.js';
import { type FirmwarePackage, pack, parse } from '../main/firmware/package.js';
import { equalBytes, seededRandom } from '../main/grep/index.js';
import { firmwareGroup, type FirmwareGroup } from '../sim/firmwareGroup.js';
import { parseBenchArgs, printTable } from './report.js';

export interface FirmwareRow {
  mode: 'multicast' | 'unicast';
  meters: number;
  imageBytes: number;
  airBytes: number;
  simSeconds: number;
  allVerified: boolean;
}

interface Settings {
  readonly meters: number;
  readonly 'image-kib': number;
  readonly loss: number;
  readonly rate: number;
  readonly latency: number;
  readonly block: number;
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

function multicast(settings: Settings): FirmwareRow {
  const { pkg, group } = setup(settings);
  const runner = group.campaign({ campaign: CAMPAIGN, pkg, blockSize: settings.block });
  const state = runner.settle();
  const allVerified = state.status === 'distributed' && campaignCounts(state).verified === settings.meters && everyoneHolds(group, pkg);
  return { mode: 'multicast', meters: settings.meters, imageBytes: pkg.image.length, airBytes: runner.airBytes, simSeconds: round(group.channel.clock.now()), allVerified };
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
  return { mode: 'unicast', meters: settings.meters, imageBytes: pkg.image.length, airBytes, simSeconds: round(clock.now()), allVerified: everyoneHolds(group, pkg) };
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
      seed: { value: 1, min: 0, max: 0xffffffff, integer: true },
    },
  });
  const rows: FirmwareRow[] = [];
  for (const measure of [multicast, unicast]) {
    rows.push(measure(args.flags));
    if (!args.json) process.stderr.write(`measured ${rows.at(-1)!.mode} on ${args.flags.meters} meters\n`);
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  printTable(rows, ['mode', 'meters', 'imageBytes', 'airBytes', 'simSeconds', 'allVerified']);
  process.stdout.write(`unicast / multicast airtime = ${(rows[1]!.airBytes / rows[0]!.airBytes).toFixed(1)}x\n`);
}

main();
