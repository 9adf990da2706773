import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, recordPage, ROOT, screenshot } from './browser.js';
import { installMockGrep } from './mockGrep.js';
import { serveRenderer } from './staticServer.js';

/**
 * The screens alone, against a stand-in window.grep holding 10^5 members: the gate, virtualization,
 * filter/sort/export, the typed confirmation. The real back end is exercised by console.e2e.ts.
 */
/** The little of the DOM the browser-side callbacks touch (this file compiles without lib.dom). */
declare const document: { querySelector(selector: string): { readonly textContent: string | null } | null };
type Scrollable = { scrollTop: number; readonly scrollHeight: number };

const MEMBERS = 100_000;
let browser: Browser;
let page: Page;
let server: Awaited<ReturnType<typeof serveRenderer>>;
let log: string[];

beforeAll(async () => {
  server = await serveRenderer(join(ROOT, 'out/renderer'));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  log = recordPage(page);
  // esbuild may wrap functions in __name(); the page has no such helper
  await page.addInitScript({ content: `globalThis.__name ??= (f) => f; (${installMockGrep.toString()})(${JSON.stringify({ members: MEMBERS })});` });
  await page.goto(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const id = (testId: string) => page.getByTestId(testId);

describe('screens against a stand-in back end', () => {
  test('the gate: short and mismatched passphrases cannot be sent, a wrong one shows its code', async () => {
    await id('unlock-passphrase').fill('short');
    expect(await id('unlock-submit').isDisabled()).toBe(true);
    await id('unlock-passphrase').fill('wrong horse');
    await id('unlock-repeat').fill('wrong horsf');
    expect(await id('unlock-submit').isDisabled()).toBe(true);
    await id('unlock-repeat').fill('wrong horse');
    await id('unlock-submit').click();
    await id('unlock-error').waitFor({ timeout: 5000 });
    expect(await id('unlock-error').textContent()).toContain('WRONG_PASSPHRASE');
    await screenshot(page, 'mock-00-unlock');
    await id('unlock-passphrase').fill('correct horse');
    await id('unlock-repeat').fill('correct horse');
    await id('unlock-submit').click();
    await id('nav-group').waitFor({ timeout: 5000 });
  });

  test('10^5 members: all counted, few rows in the DOM, filter, sort, column chooser, export', async () => {
    await id('nav-group').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=group-count]')?.textContent?.startsWith('100000 of 100000'), undefined, { timeout: 20_000 });
    const rows = await page.locator('[data-testid^=group-table-row-]').count();
    expect(rows).toBeGreaterThan(10);
    expect(rows).toBeLessThan(120);
    await screenshot(page, 'mock-01-group');

    const started = Date.now();
    await id('group-table').evaluate((el) => ((el as unknown as Scrollable).scrollTop = (el as unknown as Scrollable).scrollHeight));
    await id(`group-table-row-${1000 + MEMBERS - 1}`).waitFor({ timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(3000);

    await id('group-table-header-meterId').click();
    await id('group-table-header-meterId').click();
    await id('group-table').evaluate((el) => ((el as unknown as Scrollable).scrollTop = 0));
    await id(`group-table-row-${1000 + MEMBERS - 1}`).waitFor({ timeout: 5000 });

    await id('group-filter').fill('GX-220');
    await page.waitForFunction(() => /^14286 of 100000/.test(document.querySelector('[data-testid=group-count]')?.textContent ?? ''), undefined, { timeout: 10_000 });

    await id('group-columns-toggle').click();
    await id('group-column-serial').uncheck();
    expect(await id('group-table-header-serial').count()).toBe(0);
    await id('group-column-serial').check();

    await id('group-filter').fill('SN,"quoted"');
    await page.waitForFunction(() => /^1 of/.test(document.querySelector('[data-testid=group-count]')?.textContent ?? ''), undefined, { timeout: 10_000 });
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 5000 }), id('group-export').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('Meter id,Serial,Model,Subgroup,Join position,Joined epoch,Status,Sync,Acked epoch,Last ack,Firmware,Disconnector');
    expect(csv.split('\r\n')[1]).toMatch(/^1003,"SN,""quoted""",GX-110,0,3,/);
    await id('group-filter').fill('');
  });

  test('leave: Execute stays disabled until the meter id is typed exactly', async () => {
    await id('nav-actions').click();
    await id('actions-tab-leave').click();
    await id('leave-ids').fill('1002, x, 1002');
    expect(await id('leave-problems').textContent()).toContain('"x" is not a meter id');
    expect(await id('leave-make-plan').isDisabled()).toBe(true);
    await id('leave-ids').fill('1002');
    await id('leave-make-plan').click();
    await id('leave-execute').waitFor({ timeout: 5000 });
    for (const typed of ['', '100', '1002 ', ' 1002']) {
      await id('leave-confirmation').fill(typed);
      expect(await id('leave-execute').isDisabled(), `typed ${JSON.stringify(typed)}`).toBe(true);
    }
    await id('leave-confirmation').fill('1002');
    expect(await id('leave-execute').isEnabled()).toBe(true);
    await screenshot(page, 'mock-02-leave');
    await id('leave-execute').click();
    await id('leave-result').waitFor({ timeout: 5000 });
    expect(await id('leave-result-converged').textContent()).toBe('Converged');
  });

  test('recovery names a departed meter; the suspicion record then shows its price and offers the re-seed; suspecting waits for the cost', async () => {
    await id('actions-tab-recover').click();
    await id('recover-ids').fill('1003 1005 1004');
    // 1005 left by a plain leave: accepted as a departed suspect and marked so
    expect(await id('recover-review-1005').textContent()).toBe('1005 (departed)');
    expect(await id('recover-review-1003').textContent()).toBe('1003');
    await id('recover-make-plan').click();
    await id('recover-plan-departed').waitFor({ timeout: 5000 });
    expect(await id('recover-plan-departed').textContent()).toContain('1005');
    expect(await id('recover-plan-affected').textContent()).toBe('1003, 1004');
    await id('recover-confirmation').fill('north-substation');
    await id('recover-execute').click();
    await id('recover-result').waitFor({ timeout: 5000 });
    await page.waitForFunction(() => /holds 3 meters/.test(document.querySelector('[data-testid=reseed-leave-cost]')?.textContent ?? ''), undefined, { timeout: 5000 });
    expect(await id('reseed-leave-cost').textContent()).toBe('a leave now costs 1,220 B (14 messages) instead of 320 B (2): the suspicion record holds 3 meters (sized on a leave of meter 1070)');

    await id('actions-tab-suspect').click();
    await id('suspect-ids').fill('1102 1003');
    expect(await id('suspect-problems').textContent()).toContain('1003 did not leave the group by a plain leave');
    await id('suspect-ids').fill('1102');
    expect(await id('suspect-execute').isDisabled()).toBe(true);
    await id('suspect-preview').click();
    await id('suspect-cost').waitFor({ timeout: 5000 });
    expect(await id('suspect-cost').textContent()).toBe('With them suspected, each later leave will cost 1,520 B (14 messages) instead of 1,220 B (14) now.');
    await id('suspect-confirmation').fill('1102 ');
    expect(await id('suspect-execute').isDisabled()).toBe(true);
    await id('suspect-confirmation').fill('1102');
    await screenshot(page, 'mock-02b-suspect');
    await id('suspect-execute').click();
    await id('suspect-result').waitFor({ timeout: 5000 });
    await page.waitForFunction(() => /holds 4 meters/.test(document.querySelector('[data-testid=reseed-leave-cost]')?.textContent ?? ''), undefined, { timeout: 5000 });

    await id('reseed-offer').click();
    await id('reseed-plan').waitFor({ timeout: 5000 });
    // no DC connected yet: no rate to time the re-seed by, and none invented
    expect(await id('reseed-cost').textContent()).toBe("The re-seed costs 14,400,000 B in 100,001 messages, airtime unknown: this DC does not report its medium's bit rate.");
    expect(await id('reseed-execute').isDisabled()).toBe(true);
    await id('reseed-confirmation').fill('north-substation');
    await screenshot(page, 'mock-02c-reseed');
    await id('reseed-execute').click();
    await id('reseed-result').waitFor({ timeout: 5000 });
    await page.waitForFunction(() => /^the suspicion record is empty/.test(document.querySelector('[data-testid=reseed-leave-cost]')?.textContent ?? ''), undefined, { timeout: 5000 });
  });

  test('commission from the fleet CSV: rejected lines need the explicit opt-in', async () => {
    await id('actions-tab-commission').click();
    await id('commission-use-fleet').click();
    await id('commission-limit').fill('200');
    await id('commission-plan-csv').click();
    await id('commission-plan').waitFor({ timeout: 5000 });
    expect(await id('commission-plan-affected-count').textContent()).toBe('200');
    expect(await id('commission-plan-commissioning').textContent()).toBe('compact re-seed: 28,800 B — one join each: 240,000 B (8.3x more)');
    expect(await id('commission-execute').isDisabled()).toBe(true);
    await id('commission-accept-rejected').check();
    expect(await id('commission-execute').isEnabled()).toBe(true);
    await screenshot(page, 'mock-03-commission');
  });

  test('every other screen renders without a page error', async () => {
    for (const screen of ['connection', 'history', 'firmware', 'commands', 'audit']) {
      await id(`nav-${screen}`).click();
      await id(`screen-${screen}`).waitFor({ timeout: 5000 });
      if (screen === 'history') await id('history-cost-chart').waitFor({ timeout: 5000 });
      if (screen === 'connection') {
        // a serial DC on a path no enumeration lists (a socat PTY): typed, saved, listed
        await id('profile-name').fill('pty-dc');
        await id('profile-transport-serial').check();
        await page.locator('#serial-ports option[value="/dev/ttyUSB0"]').waitFor({ state: 'attached', timeout: 5000 });
        await id('profile-serial-path').fill('/tmp/grep-pty/ttyB');
        await id('profile-pairing-key').fill('00112233445566778899aabbccddeeff');
        await id('profile-save').click();
        await page.waitForFunction(() => document.querySelector('[data-testid=connection-profiles]')?.textContent?.includes('/tmp/grep-pty/ttyB'), undefined, { timeout: 5000 });
        await id('connection-connect-bench-dc').click();
        await page.waitForFunction(() => document.querySelector('[data-testid=header-link]')?.textContent?.includes('connected'), undefined, { timeout: 5000 });
        await id('connection-disconnect').click();
        await id('connection-link-detail').waitFor({ timeout: 5000 });
      }
      if (screen === 'firmware') {
        await id('firmware-file').setInputFiles({ name: 'fw.suit', mimeType: 'application/octet-stream', buffer: Buffer.from('package') });
        await id('firmware-check-sequence').waitFor({ timeout: 5000 });
        await id('push-submit').click();
        await id('campaign-detail').waitFor({ timeout: 5000 });
        expect(await id('campaign-activate').isDisabled()).toBe(true);
        expect(await id('campaign-confirmation-expected').textContent()).toBe('1');
        await id('campaign-confirmation').fill('1');
        expect(await id('campaign-activate').isEnabled()).toBe(true);
        expect(await id('campaign-pause').isDisabled()).toBe(true);
        await id('campaign-cancel').click();
        await id('campaign-cancel-confirm').waitFor({ timeout: 5000 });
      }
      if (screen === 'commands') {
        await id('command-ids').fill('1001 1002 1003');
        await id('command-plan').click();
        await id('command-execute').waitFor({ timeout: 5000 });
        expect(await id('command-execute').isDisabled()).toBe(true);
        await id('command-confirm').check();
        await id('command-execute').click();
        await id('command-result').waitFor({ timeout: 5000 });
      }
      if (screen === 'audit') {
        await id('audit-verify').click();
        await id('audit-verdict').waitFor({ timeout: 5000 });
      }
      await screenshot(page, `mock-${screen}`);
    }
    const problems = log.filter((l) => l.startsWith('[pageerror]') || /Content Security Policy|Refused to/.test(l));
    expect(problems).toEqual([]);
  });
});
