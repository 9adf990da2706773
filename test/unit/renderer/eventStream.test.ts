import { describe, expect, test } from 'vitest';
import type { GrepEvent } from '../../../preload/api.js';
import { createEventStream, NdjsonLineParser, reconnectDelay } from '../../../renderer/src/logic/eventStream.js';
import { Reachability } from '../../../renderer/src/logic/reachability.js';

const link = { type: 'link', link: { profile: 'dc', state: 'connected', detail: undefined, since: '2026-01-01T00:00:00Z', pending: 0, dc: undefined } };

describe('event stream line parser', () => {
  test('one event per line, empty lines are keep-alives', () => {
    const parser = new NdjsonLineParser();
    const { events, errors } = parser.push('{"type":"history"}\n\n\n{"type":"group","epoch":4}\n');
    expect(events).toEqual([{ type: 'history' }, { type: 'group', epoch: 4 }]);
    expect(errors).toEqual([]);
    expect(parser.pending).toBe('');
  });

  test('a line split across reads comes out whole, once', () => {
    const parser = new NdjsonLineParser();
    const text = `${JSON.stringify(link)}\n{"type":"progress","planId":"p1","message":"sent 3/9"}\n`;
    const seen: unknown[] = [];
    let at = 0;
    for (const cut of [5, 17, 40, 41, 100, text.length]) {
      seen.push(...parser.push(text.slice(at, cut)).events);
      at = cut;
    }
    expect(seen).toEqual([link, { type: 'progress', planId: 'p1', message: 'sent 3/9' }]);
  });

  test('byte-by-byte feeding gives the same events', () => {
    const parser = new NdjsonLineParser();
    const text = '{"type":"group","epoch":1}\n\n{"type":"group","epoch":2}\n';
    const events = [...text].flatMap((ch) => parser.push(ch).events);
    expect(events).toEqual([
      { type: 'group', epoch: 1 },
      { type: 'group', epoch: 2 },
    ]);
  });

  test('an unfinished last line waits for its newline', () => {
    const parser = new NdjsonLineParser();
    expect(parser.push('{"type":"history"}').events).toEqual([]);
    expect(parser.pending).toBe('{"type":"history"}');
    expect(parser.push('\r\n').events).toEqual([{ type: 'history' }]);
  });

  test('garbage and non-events are reported, not dispatched, and do not stop the stream', () => {
    const parser = new NdjsonLineParser();
    const { events, errors } = parser.push('{oops\n{"type":"nope"}\n42\n{"type":"history"}\n');
    expect(events).toEqual([{ type: 'history' }]);
    expect(errors).toHaveLength(3);
  });

  test('reconnect backoff doubles from 0.5 s and is capped', () => {
    expect([0, 1, 2, 3].map((n) => reconnectDelay(n))).toEqual([500, 1000, 2000, 4000]);
    expect(reconnectDelay(20)).toBe(10_000);
    expect(reconnectDelay(3, 3000)).toBe(3000);
  });
});

describe('event stream client', () => {
  const encoder = new TextEncoder();
  /** a streaming response delivering `chunks` (bytes may split characters and lines), then ending */
  const streamOf = (chunks: readonly Uint8Array[]) =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      }),
    );
  const waitUntil = async (condition: () => boolean, ms = 2000) => {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  test('events split across reads (even inside a UTF-8 character) arrive whole; an ended stream is reopened', async () => {
    const bytes = encoder.encode('{"type":"progress","planId":"p","message":"préparé"}\n\n{"type":"history"}\n');
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of é
    let opened = 0;
    const subscribe = createEventStream({
      open: async () => (++opened === 1 ? streamOf([bytes.slice(0, cut), bytes.slice(cut, cut + 20), bytes.slice(cut + 20)]) : streamOf([encoder.encode('{"type":"group","epoch":9}\n')])),
      delay: () => 1,
      warn: () => undefined,
    });
    const seen: GrepEvent[] = [];
    const unsubscribe = subscribe((event) => seen.push(event));
    await waitUntil(() => seen.length >= 3);
    unsubscribe();
    expect(seen.slice(0, 3)).toEqual([{ type: 'progress', planId: 'p', message: 'préparé' }, { type: 'history' }, { type: 'group', epoch: 9 }]);
    expect(opened).toBeGreaterThanOrEqual(2);
  });

  test('a failing open backs off and retries; every listener gets each event; the last unsubscribe aborts', async () => {
    let opened = 0;
    let signal: AbortSignal | undefined;
    const delays: number[] = [];
    const subscribe = createEventStream({
      open: async (s) => {
        signal = s;
        opened += 1;
        if (opened <= 2) return new Response('no', { status: 503 });
        return new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(encoder.encode('{"type":"history"}\n'));
              // stays open, like the console's stream between events
            },
          }),
        );
      },
      delay: (failures) => (delays.push(failures), 1),
      warn: () => undefined,
    });
    const a: GrepEvent[] = [];
    const b: GrepEvent[] = [];
    const offA = subscribe((event) => a.push(event));
    const offB = subscribe((event) => b.push(event));
    await waitUntil(() => a.length === 1 && b.length === 1);
    expect(opened).toBe(3);
    expect(delays).toEqual([0, 1]);
    offA();
    expect(signal?.aborted).toBe(false);
    offB();
    expect(signal?.aborted).toBe(true);
  });

  test('the console dying is seen at once, and its coming back is a reconnect', async () => {
    const reachability = new Reachability();
    let opened = 0;
    const subscribe = createEventStream({
      open: async () => {
        opened += 1;
        // first a stream the console ends as it shuts down, then two refused connections, then it is back
        if (opened === 1) return streamOf([encoder.encode('{"type":"history"}\n')]);
        if (opened <= 3) throw new TypeError('Failed to fetch');
        return new Response(new ReadableStream<Uint8Array>({ start: (controller) => controller.enqueue(encoder.encode('{"type":"group","epoch":2}\n')) }));
      },
      delay: () => 1,
      warn: () => undefined,
      reachability,
    });
    const states: string[] = [];
    reachability.subscribe(() => states.push(reachability.state.state));
    const seen: GrepEvent[] = [];
    const off = subscribe((event) => seen.push(event));
    await waitUntil(() => seen.length === 2);
    off();
    expect(states).toEqual(['unreachable', 'unreachable', 'reachable']);
    expect(reachability.reconnects).toBe(1);
  });

  test('a refused token (a restarted console) is final: the stream stops retrying', async () => {
    const reachability = new Reachability();
    let opened = 0;
    const subscribe = createEventStream({
      open: async () => (++opened === 1 ? new Response(new ReadableStream<Uint8Array>({ start: (c) => c.close() })) : new Response('{}', { status: 401 })),
      delay: () => 1,
      warn: () => undefined,
      reachability,
    });
    const off = subscribe(() => undefined);
    await waitUntil(() => reachability.state.state === 'restarted');
    await new Promise((r) => setTimeout(r, 30));
    off();
    expect(opened).toBe(2);
  });
});
