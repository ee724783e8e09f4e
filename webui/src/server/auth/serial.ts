/**
 * Runs async sections one at a time (in this process). Account creation uses
 * it so two simultaneous first signups cannot both become admin.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
