import { describe, expect, it } from 'vitest';
import type { CampaignMeterView, CampaignView } from '../../preload/api.js';
import { classify, EXIT_CODE_HELP, ExitCode } from '../../main/cli/errors.js';
import { campaignOutcome, progressPrinter } from '../../main/cli/firmwareReport.js';
import { CHECK_CODES, FirmwareError } from '../../main/firmware/index.js';
import { ServiceError } from '../../main/ops/errors.js';

/* grepctl fw's exit codes and what it says when a wait on a campaign ends; the commands run end to end in test/integration/cliFirmware.test.ts. */

describe('exit codes of firmware failures', () => {
  it('gives every staging refusal exit 6, a bad key file or field exit 2, a campaign step out of order exit 1', () => {
    for (const [check, code] of Object.entries(CHECK_CODES)) {
      expect(classify(new FirmwareError(code, `${check} check failed`, check as keyof typeof CHECK_CODES))).toEqual({ exitCode: ExitCode.badPackage, code, message: `${check} check failed` });
    }
    expect(classify(new FirmwareError('BAD_ARGUMENT', 'k.key: signing key is not hex')).exitCode).toBe(ExitCode.badArguments);
    expect(classify(new FirmwareError('CAMPAIGN_STATE', 'not distributed')).exitCode).toBe(ExitCode.failed);
  });

  it('treats an unknown package or campaign id as a bad argument, other service refusals as failures', () => {
    expect(classify(new ServiceError('UNKNOWN_CAMPAIGN', 'no campaign 9')).exitCode).toBe(ExitCode.badArguments);
    expect(classify(new ServiceError('UNKNOWN_PACKAGE', 'no package 9')).exitCode).toBe(ExitCode.badArguments);
    expect(classify(new ServiceError('CAMPAIGN_STATE', 'campaign 1 is completed')).exitCode).toBe(ExitCode.failed);
  });

  it('documents 6 and 130 in --help', () => {
    expect(EXIT_CODE_HELP).toMatch(/^ {4}6 {2}firmware package refused/m);
    expect(EXIT_CODE_HELP).toMatch(/^ {2}130 {2}interrupted/m);
  });
});

const meter = (meterId: number, state: CampaignMeterView['state'], reason?: string): CampaignMeterView => ({ meterId, state, received: state === 'pending' ? 0 : 8, reason, version: undefined });

function campaign(status: CampaignView['status'], perMeter: CampaignMeterView[]): CampaignView {
  const counts = { pending: 0, receiving: 0, verified: 0, activated: 0, failed: 0 };
  for (const row of perMeter) counts[row.state]++;
  return {
    id: 4,
    packageId: 2,
    manifest: { vendor: 'Acme', model: 'GX-100', version: '1.2', sequence: 2, size: 2_000, digest: '00'.repeat(32) },
    status,
    blockSize: 256,
    totalBlocks: 8,
    round: 2,
    counts,
    meters: perMeter.length,
    sentBytes: 4_321,
    createdAt: '2026-11-25T17:00:00.000Z',
    blocksAcknowledged: perMeter.reduce((sum, row) => sum + row.received, 0),
    onAir: { frames: 0, aired: 0, dcQueueSeconds: undefined },
    note: undefined,
    perMeter,
  };
}

describe('how a wait on a campaign ends', () => {
  it('is ok only when the goal is reached by every meter', () => {
    const done = campaignOutcome('g', campaign('distributed', [meter(1, 'verified'), meter(2, 'verified')]), 'distributed', false, 60);
    expect(done).toMatchObject({ exitCode: ExitCode.ok, json: { done: true, interrupted: false } });
    expect(done.text).toContain('every meter verified the image');

    const partly = campaignOutcome('g', campaign('distributed', [meter(1, 'verified'), meter(2, 'failed', 'digest mismatch')]), 'distributed', false, 60);
    expect(partly).toMatchObject({ exitCode: ExitCode.failed, json: { done: false } });
    expect(partly.text).toContain('1 meter failed: 2 (digest mismatch)');
  });

  it('says the campaign stays stored when the wait is cut short by --timeout or a signal', () => {
    const late = campaignOutcome('g', campaign('distributing', [meter(1, 'receiving')]), 'distributed', false, 30);
    expect(late.exitCode).toBe(ExitCode.failed);
    expect(late.text).toContain('not distributed within --timeout 30 s: the campaign stays stored; grepctl fw status 4 shows it; grepctl fw resume 4 drives it on');

    const stopped = campaignOutcome('g', campaign('activating', [meter(1, 'verified')]), 'completed', true, 30);
    expect(stopped).toMatchObject({ exitCode: ExitCode.interrupted, json: { interrupted: true } });
    expect(stopped.text).toContain('interrupted: the campaign stays stored as activating');

    expect(campaignOutcome('g', campaign('paused', [meter(1, 'receiving')]), 'distributed', false, 30).text).toContain('the campaign is paused');
  });
});

describe('progress while waiting', () => {
  it('prints a line for each change of status, round or counts of its own campaign only', () => {
    const lines: string[] = [];
    let id: number | undefined;
    const progress = progressPrinter(() => id, (line) => lines.push(line));
    progress(campaign('distributing', [meter(1, 'pending')]));
    expect(lines).toEqual([]);
    id = 4;
    progress(campaign('distributing', [meter(1, 'pending')]));
    progress({ ...campaign('distributing', [meter(1, 'pending')]), sentBytes: 9_999 });
    progress(campaign('distributing', [meter(1, 'verified')]));
    progress({ ...campaign('distributing', [meter(1, 'pending')]), id: 5 });
    expect(lines).toEqual(['campaign 4 distributing, round 2: 1 pending of 1 meters, 4321 B sent\n', 'campaign 4 distributing, round 2: 1 verified of 1 meters, 4321 B sent\n']);
  });
});
