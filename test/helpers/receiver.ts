import { startOtlpReceiver, type OtlpReceiver } from '../../src/testing/index.js';

/**
 * A fresh loopback OTLP receiver for each test of the calling suite, closed
 * after it. The returned object always speaks for the current test's receiver.
 */
export function useOtlpReceiver(): OtlpReceiver {
  let current: OtlpReceiver | undefined;
  beforeEach(async () => {
    current = await startOtlpReceiver();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const now = (): OtlpReceiver => {
    if (current === undefined) throw new Error('useOtlpReceiver(): no test is running');
    return current;
  };
  return {
    get url() {
      return now().url;
    },
    get logs() {
      return now().logs;
    },
    get spans() {
      return now().spans;
    },
    get requests() {
      return now().requests;
    },
    failWith: (status) => now().failWith(status),
    waitForLogs: (count, timeoutMs) => now().waitForLogs(count, timeoutMs),
    reset: () => now().reset(),
    close: () => now().close(),
  };
}
