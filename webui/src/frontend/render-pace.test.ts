import { describe, expect, it } from 'vitest';
import { RenderPace, SPARE } from './render-pace.ts';

interface Stream {
  chunks: number;
  /** ms between chunks arriving from the network. */
  every: number;
  /** Characters per chunk. */
  size: number;
  /** ms one render of `length` characters takes (the whole answer is parsed again each time). */
  cost: (length: number) => number;
}

interface Outcome {
  renders: number;
  /** ms the main thread spent rendering. */
  busy: number;
  /** When the last chunk's text was on screen. */
  finished: number;
  renderedLength: number;
}

/**
 * Plays a stream on a virtual clock, as <webui-markdown> sees it: a chunk
 * changes the text; it renders at once if `pace` allows, else a timer renders
 * the latest text later. A render blocks the thread, so chunks arriving
 * meanwhile wait. `pace` null renders every chunk, as before the fix.
 */
function play(stream: Stream, pace: RenderPace | null): Outcome {
  let busyUntil = 0;
  let timerAt: number | null = null;
  let length = 0;
  const out: Outcome = { renders: 0, busy: 0, finished: 0, renderedLength: 0 };
  const render = (at: number) => {
    const start = Math.max(at, busyUntil);
    const end = start + stream.cost(length);
    busyUntil = end;
    pace?.rendered(start, end);
    out.renders++;
    out.busy += end - start;
    out.renderedLength = length;
    out.finished = end;
  };
  for (let k = 0; k < stream.chunks; k++) {
    const arrives = k * stream.every;
    if (timerAt !== null && timerAt <= Math.max(arrives, busyUntil)) {
      render(timerAt);
      timerAt = null;
    }
    const now = Math.max(arrives, busyUntil);
    length += stream.size;
    const wait = pace ? pace.wait(now) : 0;
    if (wait <= 0) render(now);
    else timerAt ??= now + wait;
  }
  if (timerAt !== null) render(timerAt);
  return out;
}

describe('RenderPace', () => {
  it('lets cheap renders run on every chunk, so a normal answer still appears token by token', () => {
    const stream: Stream = { chunks: 500, every: 30, size: 4, cost: (n) => 0.05 + n / 1e6 };
    const paced = play(stream, new RenderPace());
    expect(paced.renders).toBe(500);
    expect(paced.renderedLength).toBe(2000);
  });

  it('keeps a long, costly stream to a fifth of the main thread, and still renders all of it', () => {
    // 20,000 chunks of 50 characters, 1 ms apart: a 1 MB answer whose render grows to 1 s.
    const stream: Stream = { chunks: 20_000, every: 1, size: 50, cost: (n) => n / 1000 };
    const arrival = stream.chunks * stream.every;

    const unpaced = play(stream, null);
    // Before: every chunk parsed the whole answer again; the page fell hours behind a 20 s answer.
    expect(unpaced.busy).toBeGreaterThan(100 * arrival);

    const paced = play(stream, new RenderPace());
    expect(paced.renderedLength).toBe(stream.chunks * stream.size);
    // At most 1/(1 + SPARE) of the time renders, plus the last render, which nothing follows.
    expect(paced.busy).toBeLessThanOrEqual(paced.finished / (1 + SPARE) + stream.cost(1e6));
    expect(paced.finished).toBeLessThan(2 * arrival);
    expect(paced.renders).toBeLessThan(stream.chunks / 20);
  });

  it('waits SPARE times the last render, counted from its end', () => {
    const pace = new RenderPace();
    expect(pace.wait(0)).toBe(0);
    pace.rendered(100, 110);
    expect(pace.wait(110)).toBe(10 * SPARE);
    expect(pace.wait(130)).toBe(10 * SPARE - 20);
    expect(pace.wait(110 + 10 * SPARE)).toBe(0);
  });
});
