import { describe, expect, test } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { decodeFirmwareFrame, openKeyFrame } from '../../main/firmware/blocks.js';
import { applyReport, type CampaignSend, type CampaignState, campaignCounts, createCampaign, nextRound } from '../../main/firmware/campaign.js';
import { KEY_COPIES } from '../../main/firmware/codedRounds.js';
import { pack, parse } from '../../main/firmware/package.js';
import { type GrepCrypto, seededRandom, toHex } from '../../main/grep/index.js';
import { firmwareGroup, GROUP_ID } from '../../sim/firmwareGroup.js';

/*
 * Erasure-coded campaigns (issue 13): the engine's repair rounds, the KEY frame naming the code, the
 * nonce space of repair symbols, and simulated meters decoding through loss and tampering.
 */

const crypto = nodeCrypto;
const random = seededRandom(13);
const vendorKey = random(32);
const MODEL = 'GX-110 single-phase';
const factory = { running: { version: '1.0.0', sequence: 1 }, vendorKeys: [crypto.publicKey(vendorKey)] };
// 70 blocks of 256 bytes, the last one short: generations of 32, 32 and 6 blocks
const image = random(70 * 256 - 100);
const pkg = parse(pack(crypto, image, { vendor: 'Acme', model: MODEL, version: '2.0.0', sequence: 2 }, vendorKey));
const group = (meters: number, loss: number, seed = 1, groupCrypto: GrepCrypto = crypto) => firmwareGroup({ seed, meters, model: MODEL, factory, crypto: groupCrypto, loss, rate: 50_000 });

const needs = (meter: number, counts: readonly number[]) => ({ meter, campaign: 1, status: 'needs', needs: Uint8Array.from(counts) }) as const;
const repairs = (sends: readonly CampaignSend[]) => sends.filter((send) => send.kind === 'repair');

describe('coded campaign engine (pure)', () => {
  const started = () => nextRound(createCampaign({ id: 1, totalBlocks: 70, meters: [1, 2, 3, 4], generationSize: 32, repairMargin: 1 }), 0);

  test('round 1 sends the key several times, then every block once', () => {
    const { state, sends } = started();
    expect(sends.slice(0, KEY_COPIES + 1).map((send) => send.kind)).toEqual([...new Array<string>(KEY_COPIES).fill('key'), 'block']);
    expect(sends.filter((send) => send.kind === 'block')).toHaveLength(70);
    expect(state.coding).toEqual({ generationSize: 32, margin: 1, repairSent: [0, 0, 0] });
  });

  test('per generation: the largest need plus the margin in fresh symbols by multicast; a meter far behind gets its excess by unicast', () => {
    let { state } = started();
    state = applyReport(state, needs(1, [2, 0, 1]));
    state = applyReport(state, needs(2, [3, 0, 0]));
    state = applyReport(state, needs(3, [0, 20, 0]));
    state = applyReport(state, needs(4, [0, 2, 0]));
    expect(state.meters['3']).toMatchObject({ state: 'receiving', received: 50 });
    const round2 = nextRound(state, 10);
    expect(repairs(round2.sends)).toEqual([
      // generation 0: meter 2's 3, plus 1
      ...[32, 33, 34, 35].map((symbol) => ({ kind: 'repair', generation: 0, symbol, to: 'all' })),
      // generation 1: meter 3 needs 20, far beyond meter 4's 2 + 1: 3 for both, the other 18 to meter 3 alone
      ...[32, 33, 34].map((symbol) => ({ kind: 'repair', generation: 1, symbol, to: 'all' })),
      ...Array.from({ length: 18 }, (_, index) => ({ kind: 'repair', generation: 1, symbol: 35 + index, to: 3 })),
      // generation 2: one meter needs it: unicast
      ...[32, 33].map((symbol) => ({ kind: 'repair', generation: 2, symbol, to: 1 })),
    ]);
    expect(round2.state.coding!.repairSent).toEqual([4, 21, 2]);

    // stored as JSON and read back (a restart): the next round's symbols are fresh, never what went out
    let restored = JSON.parse(JSON.stringify(round2.state)) as CampaignState;
    restored = applyReport(restored, needs(1, [1, 0, 0]));
    const round3 = nextRound(restored, 20);
    expect(repairs(round3.sends)).toEqual([36, 37].map((symbol) => ({ kind: 'repair', generation: 0, symbol, to: 1 })));
  });

  test('a meter without the key gets it several times, then a whole generation of symbols in each', () => {
    let { state } = started();
    state = applyReport(state, { meter: 2, campaign: 1, status: 'no-key' });
    const { sends } = nextRound(state, 10);
    expect(sends.filter((send) => send.kind === 'key')).toEqual(new Array(KEY_COPIES).fill({ kind: 'key', to: 2 }));
    const symbols = repairs(sends);
    expect(symbols.every((send) => send.to === 2)).toBe(true);
    // generations of 32, 32 and 6 blocks, each plus the margin
    expect([0, 1, 2].map((generation) => symbols.filter((send) => send.kind === 'repair' && send.generation === generation).length)).toEqual([33, 33, 7]);
  });

  test('a needs report that does not fit the code changes nothing', () => {
    const { state } = started();
    expect(applyReport(state, needs(1, [1, 1]))).toBe(state);
    expect(applyReport(state, needs(1, [33, 0, 0]))).toBe(state);
    // the last generation holds 6 blocks
    expect(applyReport(state, needs(1, [0, 0, 7]))).toBe(state);
    const uncoded = nextRound(createCampaign({ id: 1, totalBlocks: 70, meters: [1, 2] }), 0).state;
    expect(applyReport(uncoded, needs(1, [0, 0, 0]))).toBe(uncoded);
  });

  test('past the index space the oldest symbols go again', () => {
    let { state } = started();
    // 224 repair symbols per generation at k = 32: three rounds of 32 + 1 + ... run past it only with a meter far behind
    state = { ...state, coding: { ...state.coding!, repairSent: [223, 0, 0] } };
    state = applyReport(state, needs(1, [2, 0, 0]));
    expect(repairs(nextRound(state, 1).sends).map((send) => send.kind === 'repair' && send.symbol)).toEqual([255, 32, 33]);
  });
});

describe('coded campaign on the simulated medium', () => {
  test('the KEY frame names the code; a campaign without one sends today\'s KEY frame, which has no trailer', () => {
    const g = group(2, 0);
    const keys = { kmPublicKey: g.km.publicKey, kg: g.km.groupKey() };
    const coded = g.sealer({ campaign: 1, pkg, generationSize: 32 });
    const plain = g.sealer({ campaign: 1, pkg, generationSize: 'none' });
    const open = (bytes: Uint8Array) => openKeyFrame(crypto, decodeFirmwareFrame(bytes, GROUP_ID) as never, keys);
    expect(open(coded.key(g.km.epoch, g.km.groupKey())).coding).toEqual({ code: 'reed-solomon', generationSize: 32 });
    expect(open(plain.key(g.km.epoch, g.km.groupKey())).coding).toBeUndefined();
    expect(coded.key(g.km.epoch, g.km.groupKey()).length - plain.key(g.km.epoch, g.km.groupKey()).length).toBe(5);
  });

  test('no nonce is used twice under K_fw: blocks, every repair symbol of every generation, queries', () => {
    const nonces: string[] = [];
    const g = group(2, 0, 1, { ...crypto, seal: (key, nonce, plaintext, aad) => (nonces.push(toHex(nonce)), crypto.seal(key, nonce, plaintext, aad)) });
    const sealer = g.sealer({ campaign: 1, pkg, generationSize: 32 });
    // the group's commissioning sealed under other keys
    nonces.length = 0;
    for (let index = 0; index < sealer.totalBlocks; index++) sealer.block(index);
    for (let generation = 0; generation < 3; generation++) for (let symbol = 32; symbol < 256; symbol++) sealer.repair(generation, symbol);
    for (let round = 1; round <= 50; round++) sealer.query(round);
    expect(nonces).toHaveLength(70 + 3 * 224 + 50);
    expect(new Set(nonces).size).toBe(nonces.length);
  });

  test('every meter decodes the exact image at 10 % loss, and no repair symbol goes out twice', () => {
    const g = group(40, 0.1, 2);
    const runner = g.campaign({ campaign: 1, pkg, generationSize: 32 });
    const state = runner.settle();
    expect(state.status).toBe('distributed');
    expect(campaignCounts(state).verified).toBe(40);
    for (const meter of g.fleet.meters.values()) expect(meter.firmware.slot!.image).toEqual(image);
    const sent = runner.sent.flatMap(({ send }) => (send.kind === 'repair' ? [`${send.generation}:${send.symbol}`] : []));
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent).size).toBe(sent.length);
    // far less than a second pass: 70 blocks, and the repair is per generation the worst meter's loss
    expect(sent.length).toBeLessThan(35);
  });

  test('a tampered repair symbol is rejected by the AEAD and does not poison decoding', () => {
    const g = group(10, 0);
    let tampered = 0;
    const runner = g.campaign({
      campaign: 1,
      pkg,
      generationSize: 32,
      // one symbol per round for what meter 7 lacks, so the forged one is all it gets in round 2
      repairMargin: 0,
      corrupt: (bytes, send, meter) => {
        // meter 7 loses block 5, then its first repair symbol arrives with a flipped ciphertext byte
        if (meter === 7 && send.kind === 'block' && send.index === 5) return bytes.subarray(0, 10);
        if (meter !== 7 || send.kind !== 'repair' || tampered > 0) return bytes;
        tampered++;
        const copy = bytes.slice();
        copy[40] = copy[40]! ^ 0xff;
        return copy;
      },
    });
    runner.round();
    expect(runner.state.meters['7']).toMatchObject({ state: 'receiving', needs: [1, 0, 0] });
    runner.round();
    expect(tampered).toBe(1);
    expect(g.fleet.get(7).firmware.rejectedBlocks).toBe(1);
    // still one short: the forged symbol was not counted
    expect(runner.state.meters['7']).toMatchObject({ state: 'receiving', needs: [1, 0, 0] });
    expect(runner.settle().meters['7']!.state).toBe('verified');
    expect(g.fleet.get(7).firmware.slot!.image).toEqual(image);
  });
});
