import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRuns, saveRuns, type SavedRuns } from '../../bench/runs-file.js';

describe('bench/runs-file: docs/benchmarks.json', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'otel-winston-runs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives back the runs it saved', () => {
    const saved: SavedRuns = {
      settings: {
        rounds: 1,
        records: 10,
        warmup: 5,
        durationMs: 1234,
        loadAverage: [0.5, 0.25, 0.125],
        policyCosts: [{ redaction: 42 }],
      },
      runs: [
        {
          round: 1,
          pipeline: 'ours',
          workload: 'burst',
          received: 10,
          measurement: {
            records: 10,
            wallMs: 2,
            cpuUs: 30,
            loopDelayP99Ms: 1.5,
            loopDelayMaxMs: 2.5,
            rssGrowthMiB: 0.5,
            burstLoopMs: 1,
          },
        },
      ],
    };
    const file = join(dir, 'runs.json');
    saveRuns(saved, file);
    expect(loadRuns(file)).to.deep.equal(saved);
  });

  it('names the file when it does not hold runs', () => {
    const file = join(dir, 'other.json');
    writeFileSync(file, '{"runs": 3}');
    expect(() => loadRuns(file)).to.throw(`Expected ${file} to hold { settings, runs }`);
  });
});
