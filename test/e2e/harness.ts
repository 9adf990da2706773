import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, test } from 'vitest';
import { launch, recordPage, screenshot } from './browser.js';
import { type RunningConsoleProcess, startConsoleProcess } from './consoleProcess.js';

export type ApiAnswer<T = unknown> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

/** A free TCP port on the loopback interface, for a listener that must keep its port across restarts or start later. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ConsoleHarnessOptions {
  /** names the data directory and the screenshot of a failed step */
  readonly name: string;
  /** the console's arguments after `--data <dir>/data`, for every start */
  readonly args: (dir: string) => readonly string[];
  readonly stepTimeout: number;
  readonly viewport?: { width: number; height: number };
  /** before the console first starts: the files and ports its arguments name */
  readonly prepare?: (dir: string) => Promise<void> | void;
  /** after the console started, before the browser opens it: what must run against its API first */
  readonly started?: () => Promise<void>;
  /** after the console stopped at the end */
  readonly stopped?: () => Promise<unknown>;
}

/**
 * One e2e file's console process and chromium page: started in beforeAll, ended in afterAll with a
 * table of step times (and the console's output if a step failed). A test file calls it once, at its top.
 */
export function consoleHarness(options: ConsoleHarnessOptions) {
  const timings: { step: string; ms: number; ok: boolean }[] = [];
  let dir: string | undefined;
  let running: RunningConsoleProcess | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let log: string[] = [];

  const harness = {
    get dir(): string {
      return dir!;
    },
    get console(): RunningConsoleProcess {
      return running!;
    },
    get context(): BrowserContext {
      return context!;
    },
    get page(): Page {
      return page!;
    },
    /** every console message and page error so far */
    get log(): readonly string[] {
      return log;
    },

    id: (testId: string): Locator => page!.getByTestId(testId),
    text: async (testId: string): Promise<string> => ((await harness.id(testId).count()) > 0 ? ((await harness.id(testId).first().textContent()) ?? '') : ''),

    /** A call past the page, as a script holding the session token would make it: the answer, refusals included. */
    async answer<T = unknown>(call: string, args: unknown[]): Promise<ApiAnswer<T>> {
      const url = new URL(running!.url);
      const token = new URLSearchParams(url.hash.slice(1)).get('token')!;
      const response = await fetch(new URL(`/api/${call}`, url), { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ args }) });
      return (await response.json()) as ApiAnswer<T>;
    },
    /** The same call's value; a refusal throws with its code. */
    async api<T = unknown>(call: string, args: unknown[]): Promise<T> {
      const answer = await harness.answer<T>(call, args);
      if (!answer.ok) throw new Error(`${call}: ${answer.error.code} ${answer.error.message}`);
      return answer.value;
    },

    /** Starts the console on the same data (and arguments) again; the page is not moved to its new address. */
    async startConsole(): Promise<RunningConsoleProcess> {
      running = await startConsoleProcess(['--data', join(dir!, 'data'), ...options.args(dir!)]);
      return running;
    },
    async stopConsole(): Promise<void> {
      await running?.stop();
    },

    /** Runs one step, records its time, and leaves a screenshot and what the page said behind when it fails. */
    step(name: string, body: () => Promise<void>, timeout = options.stepTimeout): void {
      test(name, async () => {
        const started = Date.now();
        try {
          await body();
          timings.push({ step: name, ms: Date.now() - started, ok: true });
        } catch (error) {
          timings.push({ step: name, ms: Date.now() - started, ok: false });
          await screenshot(page!, `failed-${options.name}-${name.replace(/\W+/g, '-')}`).catch(() => undefined);
          const status = await harness.text('status-line').catch(() => '');
          throw new Error(`${(error as Error).message}\nstatus line: ${status}\npage log (last 20):\n${log.slice(-20).join('\n')}`);
        }
      }, timeout);
    },
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `grep-e2e-${options.name}-`));
    await options.prepare?.(dir);
    await harness.startConsole();
    await options.started?.();
    browser = await launch();
    context = await browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 900 } });
    page = await context.newPage();
    log = recordPage(page);
    await page.goto(running!.url);
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await running?.stop();
    await options.stopped?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
    const width = Math.max(...timings.map((t) => t.step.length));
    console.log(`\n${timings.map((t) => `${t.ok ? 'ok  ' : 'FAIL'} ${t.step.padEnd(width)} ${(t.ms / 1000).toFixed(1).padStart(6)} s`).join('\n')}\n`);
    if (timings.some((t) => !t.ok) && running) console.log(`console output (last 3000 chars):\n${running.output().slice(-3000)}`);
  });

  return harness;
}
