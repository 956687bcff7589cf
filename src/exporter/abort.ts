/**
 * A switch for exports: at a deadline it aborts what is in flight and every
 * retry wait, so that nothing of theirs keeps the process alive after it.
 */
export class ExportAborter {
  #controller = new AbortController();

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Aborts what runs now; later exports run as usual. */
  abort(): void {
    const controller = this.#controller;
    this.#controller = new AbortController();
    controller.abort(
      Object.assign(new Error('export abandoned at the deadline'), { code: 'shutdown' }),
    );
  }
}

/**
 * Waits `millis` on an unref'd timer, until `signal` aborts, or until
 * `wake` (if given) resolves; whichever comes first ends the wait, and its
 * timer and listener go with it.
 */
export function sleep(millis: number, signal: AbortSignal, wake?: Promise<void>): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', end);
      resolve();
    };
    const timer = setTimeout(end, Math.min(millis, 2 ** 31 - 1));
    timer.unref();
    signal.addEventListener('abort', end, { once: true });
    void wake?.then(end);
  });
}
