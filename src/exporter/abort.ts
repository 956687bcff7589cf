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

/** Waits `millis` on an unref'd timer, or until `signal` aborts. */
export function sleep(millis: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, millis);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}
