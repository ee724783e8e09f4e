/**
 * Paces the re-rendering of text that keeps changing, such as an answer
 * streaming in: the whole answer is parsed again on each render, so a long
 * (or hostile) answer arriving in thousands of chunks could keep the main
 * thread busy. After a render that took `c` ms the next one waits SPARE·c ms,
 * so rendering takes at most 1/(1 + SPARE) of the time, however costly it gets.
 * Cheap renders (nearly every answer) still run on every chunk.
 */
export const SPARE = 4;

export class RenderPace {
  #readyAt = Number.NEGATIVE_INFINITY;

  /** How long a change arriving at `now` should wait before it is rendered (0: render now). */
  wait(now: number): number {
    return Math.max(0, this.#readyAt - now);
  }

  /** Records a render that ran from `start` to `end` (ms, one clock). */
  rendered(start: number, end: number): void {
    this.#readyAt = end + SPARE * (end - start);
  }
}
