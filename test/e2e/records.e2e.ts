import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, recordPage, ROOT, screenshot } from './browser.js';
import { installMockGrep } from './mockGrep.js';
import { serveRenderer } from './staticServer.js';

/**
 * Finding things in History and Audit at field scale (2,400 records, results and details naming 412
 * meters each), against the stand-in back end: search and the screen filters, CSV export of what is
 * shown, keyboard selection, collapsed meter lists, and the cost chart's note on the suspicion record
 * after a recovery with its re-seed offer.
 */
/** The little of the DOM the browser-side callbacks touch (this file compiles without lib.dom). */
declare const document: { querySelector(selector: string): { readonly textContent: string | null } | null; readonly activeElement: { getAttribute(name: string): string | null } | null };

const RECORDS = 2400;
let browser: Browser;
let page: Page;
let server: Awaited<ReturnType<typeof serveRenderer>>;
let log: string[];
const measured: Record<string, number> = {};

beforeAll(async () => {
  server = await serveRenderer(join(ROOT, 'out/renderer'));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  log = recordPage(page);
  // esbuild may wrap functions in __name(); the page has no such helper
  await page.addInitScript({ content: `globalThis.__name ??= (f) => f; (${installMockGrep.toString()})(${JSON.stringify({ members: 2500, records: RECORDS })});` });
  await page.goto(server.url);
  await page.getByTestId('unlock-passphrase').fill('correct horse');
  await page.getByTestId('unlock-repeat').fill('correct horse');
  await page.getByTestId('unlock-submit').click();
  await page.getByTestId('nav-history').waitFor({ timeout: 10_000 });
});

afterAll(async () => {
  console.log(`records e2e, ms: ${JSON.stringify(measured)}`);
  await browser?.close();
  await server?.close();
});

const id = (testId: string) => page.getByTestId(testId);
const text = async (testId: string) => (await id(testId).first().textContent()) ?? '';

/** Waits until the element's text matches, and says how long that took: typing to the filtered count on screen. */
async function until(testId: string, pattern: RegExp, ms = 10_000): Promise<number> {
  const started = Date.now();
  await page.waitForFunction(([t, source]) => new RegExp(source).test(document.querySelector(`[data-testid="${t}"]`)?.textContent ?? ''), [testId, pattern.source] as const, { timeout: ms });
  return Date.now() - started;
}

async function download(testId: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 5000 }), id(testId).click()]);
  return readFileSync((await file.path())!, 'utf8');
}

const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);

describe('History and Audit at 2,400 records', () => {
  test('History: search, operation filter, a collapsed meter list opened, export of the shown rows', async () => {
    await id('nav-history').click();
    await until('history-count', new RegExp(`^${RECORDS} of ${RECORDS} shown$`));

    await id('history-filter').fill('unreachable');
    measured.historySearch = await until('history-count', /^96 of 2400 shown$/);
    await id('history-operation').selectOption('commission');
    measured.historyOperation = await until('history-count', /^24 of 2400 shown$/);
    expect(measured.historySearch).toBeLessThan(1500);

    // the newest matching row: operation 2305 (index 2304) lost 412 meters; the cell shows the count only
    const summary = id('history-result-2305-meters').locator('summary');
    expect(await summary.textContent()).toBe('412 meters');
    expect(await id('history-result-2305-ranges').isVisible()).toBe(false);
    await summary.click();
    expect(await id('history-result-2305-ranges').isVisible()).toBe(true);
    const ranges = await text('history-result-2305-ranges');
    expect(ranges).toMatch(/^1004-1049, 1051-1099, 1101-1149, 1151-1199, 1201-1249, 1251-1299, 1301-1349, 1351-1399, 1401-1423$/);
    await screenshot(page, 'records-history-filtered');

    const csv = await download('history-export');
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('#,Operation,Epoch from,Epoch to,Messages,Bytes,Duration (ms),Result,Actor,Started,Finished,Plan');
    expect(lines).toHaveLength(1 + 24 + 1);
    expect(lines.at(-1)).toBe('');
    for (const line of lines.slice(1, -1)) expect(line).toMatch(/^\d+,commission,\d+,\d+,"rekey ×2, welcome ×\d+",\d+,\d+,unreachable: (\d+ ){411}\d+,operator,/);
    // the export keeps the on-screen order: newest first
    expect(lines[1]).toMatch(/^2305,/);
    expect(lines[24]).toMatch(/^5,/);
  });

  test('History: arrows move the selection, Enter opens its details', async () => {
    await id('history-table-row-2305').click();
    expect(await id('history-table-row-2305').getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowDown');
    expect(await id('history-table-row-2205').getAttribute('aria-selected')).toBe('true');
    expect(await id('history-table-row-2305').getAttribute('aria-selected')).toBe('false');
    expect(await id('history-table').locator('table').getAttribute('aria-activedescendant')).toBe('history-table-row-2205');
    await page.keyboard.press('End');
    expect(await id('history-table-row-5').getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('Enter');
    expect(await focused()).toBe('history-detail');
    expect(await id('history-detail-result-meters').locator('summary').textContent()).toBe('412 meters');
    expect(await id('history-detail-result-ranges').isVisible()).toBe(true);
    await id('history-filter').fill('');
    await id('history-operation').selectOption('');
  });

  test('Audit: search with actor and action filters, keyboard to a far row, its meter list in the details, export', async () => {
    await id('nav-audit').click();
    await until('audit-shown', new RegExp(`^${RECORDS} of ${RECORDS} shown$`));
    await id('audit-actor').selectOption('technician');
    measured.auditActor = await until('audit-shown', /^120 of 2400 shown$/);
    await id('audit-action').selectOption('execute');
    // a meter id from inside the collapsed lists: only the lists starting at meter 1001 reach 1010
    await id('audit-filter').fill('1010');
    measured.auditSearch = await until('audit-shown', /^24 of 2400 shown$/);
    expect(measured.auditSearch).toBeLessThan(1500);
    expect(await text('audit-table-row-2302')).toContain('{"plan":"p2301","operation":"commission","meters":[412 meters]}');

    await id('audit-table').locator('table').focus();
    await page.keyboard.press('ArrowDown');
    expect(await id('audit-table-row-2302').getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('End');
    const last = id('audit-table-row-2');
    expect(await last.getAttribute('aria-selected')).toBe('true');
    // scrolled into view below the sticky header, not just rendered
    const row = (await last.boundingBox())!;
    const box = (await id('audit-table').boundingBox())!;
    expect(row.y).toBeGreaterThanOrEqual(box.y + 20);
    expect(row.y + row.height).toBeLessThanOrEqual(box.y + box.height + 1);
    await page.keyboard.press('Enter');
    expect(await focused()).toBe('audit-detail');
    expect(await id('audit-detail-meters-meters').locator('summary').textContent()).toBe('412 meters');
    expect(await text('audit-detail-meters-ranges')).toMatch(/^1001-1049, 1051-1099, /);
    await screenshot(page, 'records-audit-filtered');

    const csv = await download('audit-export');
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('#,At,Actor,Action,Detail,Hash');
    expect(lines).toHaveLength(1 + 24 + 1);
    for (const line of lines.slice(1, -2)) expect(line).toMatch(/^\d+,[\d\-T:.]+Z,technician,execute,"\{""plan"":""p\d+"",""operation"":""commission"",""meters"":\[(\d+,){411}\d+\]\}",[0-9a-f]{64}$/);
    // the oldest row's note: quotes doubled inside the quoted JSON, the ESC escaped as the JSON already wrote it
    expect(lines.at(-2)).toMatch(/^2,.*,""note"":""=HYPERLINK\(\\""http:\/\/x\\""\)\\u001b""\}",[0-9a-f]{64}$/);
    await id('audit-filter').fill('');
    await id('audit-actor').selectOption('');
    await id('audit-action').selectOption('');
  });

  test('after a recovery the cost chart says the suspicion record makes GREP dearer and offers the re-seed', async () => {
    await id('nav-history').click();
    await id('history-cost-chart').waitFor({ timeout: 5000 });
    expect(await id('history-cost-record').count()).toBe(0);
    expect(await text('cost-leave-grep')).toBe('GREP 420 B');

    await id('nav-actions').click();
    await id('actions-tab-recover').click();
    await id('recover-ids').fill('1003 1004');
    await id('recover-make-plan').click();
    await id('recover-confirmation').fill('north-substation');
    await id('recover-execute').click();
    await id('recover-result').waitFor({ timeout: 5000 });

    await id('nav-history').click();
    await until('history-cost-record', /holds 2 meters/);
    expect(await text('history-cost-record')).toBe(
      "* GREP's leave and recovery include the suspicion record, which holds 2 meters: a leave of meter 1070 costs 920 B (10 messages) with it and 320 B (2 messages) once a re-seed has emptied it. Plan the re-seed",
    );
    expect(await text('cost-leave-grep')).toBe('GREP 420 B *');
    expect(await text('cost-recover3-grep')).toBe('GREP 2.5 kB *');
    expect(await text('cost-join-grep')).toBe('GREP 420 B');
    await screenshot(page, 'records-history-cost-record');

    await id('history-cost-reseed').click();
    expect(await focused()).toBe('history-reseed-offer');
    await page.keyboard.press('Enter');
    await id('history-reseed-plan').waitFor({ timeout: 5000 });
    expect(log.filter((l) => l.startsWith('[pageerror]') || /Content Security Policy|Refused to/.test(l))).toEqual([]);
  });
});
