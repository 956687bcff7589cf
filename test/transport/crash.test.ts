import { logs, SeverityNumber } from '@opentelemetry/api';
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { emitCrashRecord, flushBeforeWinstonExits, onUncaught } from '../../src/transport/crash.js';
import { createLogCapture } from '../../src/testing/index.js';
import { useDiagCapture } from '../helpers/diag.js';

type Listener = (...args: unknown[]) => void;

/**
 * Runs `body` with `others` as the only 'uncaughtException' listeners beside
 * ours (mocha's own are set aside), and with process.exit and stderr caught.
 */
async function inProcess(
  others: number,
  body: () => Promise<void>,
): Promise<{ exits: number[]; stderr: string }> {
  const saved = process.listeners('uncaughtException') as Listener[];
  process.removeAllListeners('uncaughtException');
  const ours: Listener = () => undefined;
  process.on('uncaughtException', ours);
  const extra: Listener[] = Array.from({ length: others }, () => () => undefined);
  for (const listener of extra) process.on('uncaughtException', listener);
  const exits: number[] = [];
  let stderr = '';
  const exit = process.exit;
  const write = process.stderr.write;
  process.exit = ((code?: number) => void exits.push(code ?? 0)) as typeof process.exit;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    await body();
  } finally {
    process.exit = exit;
    process.stderr.write = write;
    process.removeAllListeners('uncaughtException');
    for (const listener of saved) process.on('uncaughtException', listener);
  }
  return { exits, stderr };
}

describe('the crash path (src/transport/crash.ts)', () => {
  const diag = useDiagCapture();

  describe('onUncaught: one decision, who owns the crash', () => {
    it('nobody else listens: records it, then flushes, then prints it as Node does and exits 1', async () => {
      const steps: string[] = [];
      let flushed!: () => void;
      const outcome = await inProcess(0, async () => {
        onUncaught(
          new Error('boom'),
          'unhandledRejection',
          () => {
            steps.push('flush');
            return new Promise<void>((resolve) => (flushed = resolve));
          },
          (error, origin) => steps.push(`record ${(error as Error).message} ${origin}`),
        );
        expect(steps).to.deep.equal(['record boom unhandledRejection', 'flush']);
        await Promise.resolve();
        steps.push('flush done');
        flushed();
        await new Promise((resolve) => setImmediate(resolve));
      });
      expect(outcome.exits).to.deep.equal([1]);
      expect(outcome.stderr).to.match(/^Unhandled rejection: Error: boom\n {4}at /);
    });

    it('another listener (winston exception handler, the app) owns it: no record, a flush, no exit', async () => {
      let recorded = 0;
      let flushes = 0;
      const outcome = await inProcess(1, async () => {
        onUncaught(
          new Error('boom'),
          'uncaughtException',
          async () => void flushes++,
          () => void recorded++,
        );
        await new Promise((resolve) => setImmediate(resolve));
      });
      expect({ recorded, flushes, exits: outcome.exits, stderr: outcome.stderr }).to.deep.equal({
        recorded: 0,
        flushes: 1,
        exits: [],
        stderr: '',
      });
    });

    it('a record that throws is told (OTW012), and the flush and the exit still happen', async () => {
      let flushes = 0;
      const outcome = await inProcess(0, async () => {
        onUncaught(
          'a string',
          'uncaughtException',
          async () => void flushes++,
          () => {
            throw new Error('no provider');
          },
        );
        await new Promise((resolve) => setImmediate(resolve));
      });
      expect(flushes).to.equal(1);
      expect(outcome.exits).to.deep.equal([1]);
      expect(outcome.stderr).to.equal("'a string'\n");
      expect(diag.warnings.join('\n')).to.match(
        /OTW012.*the crash could not be recorded.*no provider/,
      );
    });
  });

  it('emitCrashRecord: a FATAL record of the global provider, with the exception, the origin in its body', () => {
    const capture = createLogCapture();
    logs.setGlobalLoggerProvider(capture.loggerProvider);
    try {
      const error = Object.assign(new TypeError('bad input'), { code: 'E_BAD' });
      emitCrashRecord(error, 'uncaughtException');
      emitCrashRecord(42, 'unhandledRejection');
    } finally {
      logs.disable();
    }
    const [thrown, rejected] = capture.records;
    expect(thrown).to.deep.include({
      severityNumber: SeverityNumber.FATAL,
      severityText: 'FATAL',
      body: 'uncaughtException: bad input',
    });
    expect(thrown!.attributes).to.include({
      'exception.type': 'TypeError',
      'exception.message': 'bad input',
      'exception.code': 'E_BAD',
    });
    expect(thrown!.attributes['exception.stacktrace']).to.match(/^TypeError: bad input\n/);
    expect(rejected!.body).to.equal('unhandledRejection: 42');
  });

  describe('flushBeforeWinstonExits: winston exits when the transport finishes, after the flush', () => {
    /** A transport piped from a logger with this `exitOnError`; counts 'finish'. */
    function transport(exitOnError: unknown): EventEmitter & { parent: unknown; finished: number } {
      const t = Object.assign(new EventEmitter(), { parent: { exitOnError }, finished: 0 });
      t.on('finish', () => t.finished++);
      return t;
    }
    const provider = (flush: () => Promise<void>) =>
      ({ getLogger: () => undefined, forceFlush: flush }) as never;

    it("emits 'finish' only once the provider has flushed", async () => {
      const t = transport(true);
      let done!: () => void;
      flushBeforeWinstonExits(
        t,
        provider(() => new Promise<void>((r) => (done = r))),
        {},
      );
      expect(t.finished).to.equal(0);
      done();
      await new Promise((resolve) => setImmediate(resolve));
      expect(t.finished).to.equal(1);
    });

    it('flushes but does not finish when winston will not exit (exitOnError false, or a function that says so)', async () => {
      const asked: unknown[] = [];
      const error = new Error('handled');
      for (const t of [
        transport(false),
        transport((e: unknown) => {
          asked.push(e);
          return false;
        }),
      ]) {
        let flushes = 0;
        flushBeforeWinstonExits(
          t,
          provider(async () => void flushes++),
          { error },
        );
        await new Promise((resolve) => setImmediate(resolve));
        expect({ flushes, finished: t.finished }).to.deep.equal({ flushes: 1, finished: 0 });
      }
      expect(asked).to.deep.equal([error]);
    });

    it('a provider that cannot flush, or whose flush fails: finishes at once, and a failure is told', async () => {
      const plain = transport(true);
      flushBeforeWinstonExits(plain, { getLogger: () => undefined } as never, {});
      expect(plain.finished).to.equal(1);
      const failing = transport(true);
      flushBeforeWinstonExits(
        failing,
        provider(() => Promise.reject(new Error('collector gone'))),
        {},
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(failing.finished).to.equal(1);
      expect(diag.warnings.join('\n')).to.match(
        /OTW012.*flushing after an uncaught exception failed/,
      );
    });
  });
});
