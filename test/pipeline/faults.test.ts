import { expect } from 'chai';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PipelineStats } from '../../src/pipeline/accounting.js';
import { startLoadReceiver, type LoadReceiver } from '../helpers/load-receiver.js';
import { expectBalanced, expectEachOnce, reportOf } from '../helpers/load-app.js';
import { spawnPreloaded, type PreloadedProcess } from '../helpers/preload-app.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * The pipeline as a user gets it: a script under `--require
 * otel-winston/register`, no telemetry code of its own, against a real
 * receiver on loopback that goes down, slows down, or is not there.
 *
 * The long versions: OTEL_WINSTON_TEST_OUTAGE_MS=60000 (the outage of the
 * issue: 60 s at 2,000 records/s), OTEL_WINSTON_TEST_OVERLOAD_SECONDS=10.
 * The defaults keep CI short without changing what is proven: the outage
 * still lasts several times the retry cap.
 */
const OUTAGE_MS = Number(process.env.OTEL_WINSTON_TEST_OUTAGE_MS ?? 6000);
const OVERLOAD_SECONDS = Number(process.env.OTEL_WINSTON_TEST_OVERLOAD_SECONDS ?? 3);
const RETRY_MAX_MS = 1000;

describe('pipeline under the preload: bursts, outages, overload, signals (real child processes)', function () {
  this.timeout(Math.max(120_000, OUTAGE_MS * 3));
  let receiver: LoadReceiver;
  beforeEach(async () => {
    receiver = await startLoadReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  function run(env: Record<string, string>, killAfterMillis = 110_000): PreloadedProcess {
    return spawnPreloaded(
      ['--require', 'otel-winston/register'],
      'load.cjs',
      receiver.url,
      { OTEL_BLRP_SCHEDULE_DELAY: '200', ...env },
      killAfterMillis,
    );
  }

  /**
   * Ten records and the end of the script, with a deadline of 1 s: it must
   * end within the deadline of its last line, and account for every record.
   */
  async function shortScript(env: Record<string, string>): Promise<{
    app: PreloadedProcess;
    stats: PipelineStats;
  }> {
    const app = run({
      LOAD_MODE: 'few',
      LOAD_RECORDS: '10',
      OTEL_WINSTON_SHUTDOWN_TIMEOUT: '1000',
      ...env,
    });
    const outcome = await app.exited();
    const ended = Date.now();
    expect(outcome.code, app.stderr()).to.equal(0);
    const last = Number(/^last line (\d+)$/m.exec(app.stdout())![1]);
    // The deadline, plus what a loaded 2-core machine takes to end a process.
    expect(ended - last).to.be.at.most(1000 + 1000);
    const { stats } = reportOf(app);
    expectBalanced(stats);
    return { app, stats };
  }

  it('a burst of 200,000 records in one synchronous loop: every one delivered, none twice', async () => {
    const app = run({ LOAD_MODE: 'burst', LOAD_RECORDS: '200000' });
    const outcome = await app.exited();
    expect(outcome.code, app.stderr()).to.equal(0);
    const { logged, stats } = reportOf(app);
    expect(logged).to.equal(200_000);
    expect(stats).to.deep.include({ created: 200_000, exported: 200_000, droppedTotal: 0 });
    expectBalanced(stats);
    expectEachOnce(receiver, 200_000);
  });

  it(`the collector down for ${OUTAGE_MS / 1000} s (more than the retry cap) at 2,000 records/s: every record delivered after it returns`, async () => {
    expect(OUTAGE_MS).to.be.greaterThan(RETRY_MAX_MS * 3);
    const app = run({
      LOAD_MODE: 'rate',
      LOAD_RATE: '2000',
      LOAD_SECONDS: String(1 + OUTAGE_MS / 1000 + 2),
      OTEL_WINSTON_RETRY_MAX_MS: String(RETRY_MAX_MS),
    });
    await receiver.waitForCount(1000, 30_000);
    await receiver.down();
    await sleep(OUTAGE_MS);
    const back = Date.now();
    const requestsBefore = receiver.arrivals.length;
    await receiver.up();
    await waitUntil(
      'the first export after the outage',
      () => receiver.arrivals.length > requestsBefore,
    );
    // The probe comes at most one capped backoff (+20% jitter) after the collector is back.
    expect(receiver.arrivals[requestsBefore]! - back).to.be.at.most(RETRY_MAX_MS * 1.2 + 500);
    const outcome = await app.exited();
    expect(outcome.code, app.stderr()).to.equal(0);
    const { logged, stats } = reportOf(app);
    expect(logged).to.equal(2000 * (1 + OUTAGE_MS / 1000 + 2));
    expect(stats).to.deep.include({ created: logged, exported: logged, droppedTotal: 0 });
    expectBalanced(stats);
    expectEachOnce(receiver, logged);
  });

  it('overload: a receiver that answers in 200 ms, 20,000 records/s, a small queue: the drops counted are exactly the records missing', async () => {
    receiver.delay(200);
    const app = run({
      LOAD_MODE: 'rate',
      LOAD_RATE: '20000',
      LOAD_SECONDS: String(OVERLOAD_SECONDS),
      OTEL_WINSTON_QUEUE_MAX_BYTES: String(256 * 1024),
    });
    const outcome = await app.exited();
    expect(outcome.code, app.stderr()).to.equal(0);
    const { logged, stats } = reportOf(app);
    expect(logged).to.equal(20_000 * OVERLOAD_SECONDS);
    expect(stats.dropped.queue_full).to.be.greaterThan(0);
    expect(stats.droppedTotal).to.equal(stats.dropped.queue_full);
    expect(logged - receiver.count).to.equal(stats.droppedTotal);
    expect(stats.exported).to.equal(receiver.count);
    expect([...receiver.seen.values()].every((n) => n === 1)).to.equal(true);
    expectBalanced(stats);
    // Told locally, without the pipeline: the warning, and the summary at the end.
    expect(app.stderr()).to.match(
      /\[OTW014\] OtelWinstonWarning: otel-winston dropped [\d,]+ log record/,
    );
    expect(app.stderr()).to.include(
      `${stats.droppedTotal.toLocaleString('en-US')} of ${logged.toLocaleString('en-US')} log records were not delivered`,
    );
  });

  it('SIGTERM with a slow receiver: what was logged before and during the flush is exported, then the process ends by SIGTERM', async () => {
    receiver.delay(200);
    const app = run({
      LOAD_MODE: 'rate',
      LOAD_RATE: '2000',
      LOAD_SECONDS: '3',
      LOAD_END: 'signal',
    });
    const seqNow = (): number => {
      const lines = app.stdout().match(/^seq (\d+)$/gm);
      return lines === null ? 0 : Number(lines.at(-1)!.slice(4));
    };
    await waitUntil('the app to log for a second', () => seqNow() >= 2000, 30_000);
    const atSignal = seqNow();
    app.child.kill('SIGTERM');
    const outcome = await app.exited();
    expect(outcome.signal, app.stderr()).to.equal('SIGTERM');
    const { how, logged, stats } = reportOf(app);
    expect(how).to.equal('signal');
    // The app went on logging while the preload flushed; those records are in the flush.
    expect(logged).to.be.greaterThan(atSignal + 500);
    expect(stats).to.deep.include({ created: logged, exported: logged, droppedTotal: 0 });
    expectBalanced(stats);
    expectEachOnce(receiver, logged);
  });

  for (const protocol of ['http/protobuf', 'grpc']) {
    it(`a short script and a collector that takes connections and never answers (${protocol}): logs, spans and metrics end by the deadline`, async () => {
      const sockets = new Set<Socket>();
      const blackHole = createServer((socket) => void sockets.add(socket));
      await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = blackHole.address() as AddressInfo;
        const { stats } = await shortScript({
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        });
        expect(stats.dropped.shutdown).to.equal(10);
      } finally {
        for (const socket of sockets) socket.destroy();
        blackHole.close();
      }
    });
  }

  it('a short script and no collector: it ends within the deadline after its last line, and says once what it could not deliver', async () => {
    await receiver.down();
    const { app, stats } = await shortScript({});
    expect(stats).to.deep.include({ created: 10, exported: 0, droppedTotal: 10 });
    expect(stats.dropped.shutdown).to.equal(10);
    const said = app
      .stderr()
      .split('\n')
      .filter((l) => l.includes('otel-winston'));
    expect(said).to.deep.equal([
      `otel-winston: 10 of 10 log records were not delivered to ${receiver.url}/v1/logs (10 shutdown deadline); 0 were.`,
    ]);
  });
});
