import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogPipelineOptions } from '../../src/pipeline/options.js';
import { useDiagCapture } from '../helpers/diag.js';
import { startLoadReceiver, type LoadReceiver } from '../helpers/load-receiver.js';
import { balanced, pipelineLogger, sampleStats, type PipelineLogger } from '../helpers/pipeline.js';
import { waitUntil } from '../helpers/wait.js';

/** The files of a spool folder that hold records: open and finished segments. */
function segments(dir: string): string[] {
  return readdirSync(dir).filter((name) => /\.(open|seg)$/.test(name));
}

/** Every `seq` from 0 to `count - 1` arrived exactly once. */
function expectEachOnce(receiver: LoadReceiver, count: number): void {
  expect(receiver.count, 'records received').to.equal(count);
  for (let seq = 0; seq < count; seq++) expect(receiver.seen.get(seq), `seq ${seq}`).to.equal(1);
}

describe('spool: LogPipeline with a spool folder', function () {
  this.timeout(60_000);
  const diag = useDiagCapture();
  let receiver: LoadReceiver;
  let dir: string;
  const running: PipelineLogger[] = [];

  function setup(options: LogPipelineOptions = {}): PipelineLogger {
    const s = pipelineLogger({ url: `${receiver.url}/v1/logs`, spool: dir, ...options });
    running.push(s);
    return s;
  }

  beforeEach(async () => {
    receiver = await startLoadReceiver();
    dir = mkdtempSync(join(tmpdir(), 'otel-winston-spool-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.provider.shutdown()));
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an outage longer than memory holds: records go to disk, none is dropped, memory stays under its cap, the identity holds at every moment', async () => {
    const cap = 64 * 1024;
    const { pipeline, log } = setup({ maxQueueBytes: cap, maxExportBatchSize: 200 });
    const { samples, add, stop } = sampleStats(pipeline);
    await receiver.down();
    for (let round = 0; round < 40; round++) {
      log(500, round * 500);
      add();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const during = pipeline.stats();
    expect(during.spooled, 'records on disk').to.be.greaterThan(15_000);
    expect(segments(dir)).to.not.be.empty;
    await receiver.up();
    await waitUntil(
      () => `the spool to drain: ${JSON.stringify(pipeline.stats())}`,
      () => pipeline.stats().exported === 20_000,
      40_000,
    );
    stop();
    expect(samples.length).to.be.greaterThan(40);
    for (const s of samples) {
      expect(balanced(s), JSON.stringify(s)).to.equal(true);
      expect(s.queuedBytes + s.inFlightBytes, 'bytes in memory').to.be.at.most(cap);
    }
    const end = pipeline.stats();
    expect(end).to.deep.include({ created: 20_000, droppedTotal: 0, spooled: 0, recovered: 0 });
    expectEachOnce(receiver, 20_000);
    expect(segments(dir), 'segments delivered are deleted').to.deep.equal([]);
  });

  it('a burst larger than memory while the collector is slow: the excess waits on disk, nothing is queue_full', async () => {
    receiver.delay(100);
    const { pipeline, log } = setup({ maxQueueBytes: 64 * 1024, maxExportBatchSize: 100 });
    log(10_000);
    const burst = pipeline.stats();
    expect(burst.dropped.queue_full).to.equal(0);
    expect(burst.spooled).to.be.greaterThan(5000);
    expect(balanced(burst)).to.equal(true);
    await waitUntil(
      () => `the backlog to drain: ${JSON.stringify(pipeline.stats())}`,
      () => pipeline.stats().exported === 10_000,
      40_000,
    );
    expect(pipeline.stats().droppedTotal).to.equal(0);
    expectEachOnce(receiver, 10_000);
  });

  it('records unsent at shutdown stay on disk; the next pipeline on the folder recovers and sends them', async () => {
    const first = setup({ shutdownTimeoutMillis: 300 });
    await receiver.down();
    first.log(3000);
    await first.provider.shutdown();
    const left = first.pipeline.stats();
    expect(left.dropped.shutdown, 'nothing dropped at the deadline').to.equal(0);
    expect(left).to.deep.include({ queued: 0, inFlight: 0, spooled: 3000, exported: 0 });
    expect(balanced(left)).to.equal(true);
    expect(segments(dir)).to.not.be.empty;
    expect(
      readdirSync(dir).filter((n) => n.endsWith('.lock')),
      'the lock is given up',
    ).to.deep.equal([]);

    await receiver.up();
    const second = setup();
    expect(second.pipeline.stats()).to.deep.include({ recovered: 3000, spooled: 3000 });
    second.log(500, 3000);
    await second.pipeline.drain(20_000);
    const end = second.pipeline.stats();
    expect(end).to.deep.include({ created: 500, recovered: 3000, exported: 3500, droppedTotal: 0 });
    expect(balanced(end)).to.equal(true);
    expectEachOnce(receiver, 3500);
    expect(segments(dir)).to.deep.equal([]);
  });

  it('a spool full to its maxBytes deletes its oldest records, counted spool_full, and keeps the newest', async () => {
    const maxBytes = 128 * 1024;
    const { pipeline, log } = setup({
      maxQueueBytes: 64 * 1024,
      maxExportBatchSize: 50,
      spool: { dir, maxBytes },
    });
    await receiver.down();
    for (let round = 0; round < 10; round++) {
      log(1000, round * 1000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const full = pipeline.stats();
    expect(full.dropped.spool_full).to.be.greaterThan(0);
    expect(full.spooledBytes).to.be.at.most(maxBytes);
    expect(balanced(full)).to.equal(true);
    expect(diag.warnings.join('\n')).to.match(/OTW014.*dropped [\d,]+ log record\(s\).*spool full/);
    await receiver.up();
    await waitUntil(
      () => `the spool to drain: ${JSON.stringify(pipeline.stats())}`,
      () => {
        const s = pipeline.stats();
        return s.queued === 0 && s.inFlight === 0 && s.spooled === 0;
      },
      30_000,
    );
    const end = pipeline.stats();
    expect(end.exported + end.dropped.spool_full).to.equal(10_000);
    expect(end.exported).to.equal(receiver.count);
    // The newest record survived: eviction takes the oldest.
    expect(receiver.seen.get(9999)).to.equal(1);
  });

  it('a folder that cannot be used: OTW017 says so once, and the pipeline goes on in memory', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, '');
    const { pipeline, log } = setup({ spool: join(file, 'spool'), maxQueueBytes: 64 * 1024 });
    expect(diag.warnings.join('\n')).to.match(/OTW017.*could not open the spool folder/);
    expect(pipeline.stats().spoolErrors).to.equal(1);
    await receiver.down();
    log(5000);
    const s = pipeline.stats();
    expect(s.spooled).to.equal(0);
    expect(s.dropped.queue_full, 'memory is the bound again').to.be.greaterThan(0);
    expect(balanced(s)).to.equal(true);
    await receiver.up();
    await pipeline.forceFlush();
    await waitUntil('the queue to drain', () => pipeline.stats().exported === receiver.count);
    expect(receiver.count).to.equal(5000 - s.dropped.queue_full);
  });

  it('write-through: every batch goes to disk before it is sent, and all arrive once', async () => {
    const { pipeline, log } = setup({
      maxExportBatchSize: 100,
      spool: { dir, writeThrough: true, flushMillis: 20 },
    });
    let sawFiles = false;
    const watch = setInterval(() => (sawFiles ||= segments(dir).length > 0), 1);
    for (let round = 0; round < 10; round++) {
      log(500, round * 500);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await pipeline.drain(20_000);
    clearInterval(watch);
    expect(sawFiles, 'segment files while sending').to.equal(true);
    expect(pipeline.stats()).to.deep.include({
      created: 5000,
      exported: 5000,
      droppedTotal: 0,
      spooled: 0,
    });
    expectEachOnce(receiver, 5000);
    // No OTW016: writing to disk is the choice made, not a sign of trouble.
    expect(diag.warnings.join('\n')).to.not.include('OTW016');
  });

  it('two pipelines on one folder each send their own records, once', async () => {
    const a = setup({ maxQueueBytes: 64 * 1024 });
    const b = setup({ maxQueueBytes: 64 * 1024 });
    await receiver.down();
    a.log(4000, 0);
    b.log(4000, 4000);
    expect(a.pipeline.stats().spooled).to.be.greaterThan(0);
    expect(b.pipeline.stats().spooled).to.be.greaterThan(0);
    expect(readdirSync(dir).filter((n) => n.endsWith('.lock'))).to.have.length(2);
    await receiver.up();
    await Promise.all([a.pipeline.drain(20_000), b.pipeline.drain(20_000)]);
    expect(a.pipeline.stats()).to.deep.include({ exported: 4000, recovered: 0, droppedTotal: 0 });
    expect(b.pipeline.stats()).to.deep.include({ exported: 4000, recovered: 0, droppedTotal: 0 });
    expectEachOnce(receiver, 8000);
  });

  it('the collector failing is said once per episode with OTW016, naming the folder', async () => {
    const { pipeline, log } = setup({ maxQueueBytes: 64 * 1024 });
    await receiver.down();
    log(5000);
    await waitUntil('records on disk', () => pipeline.stats().spooled > 0);
    const notices = diag.warnings.filter((w) => w.includes('OTW016'));
    expect(notices).to.have.length(1);
    expect(notices[0]).to.include(dir);
  });
});
