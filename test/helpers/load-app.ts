import { expect } from 'chai';
import type { PipelineStats } from '../../src/pipeline/accounting.js';
import type { LoadReceiver } from './load-receiver.js';
import { balanced } from './pipeline.js';
import type { PreloadedProcess } from './preload-app.js';

/** What `test/fixtures/preload/load.cjs` prints as it ends. */
export interface LoadReport {
  readonly how: 'exit' | 'signal';
  readonly logged: number;
  readonly rss: number;
  readonly stats: PipelineStats;
}

/** The last report line of a load.cjs run; throws with its stderr when there is none. */
export function reportOf(app: PreloadedProcess): LoadReport {
  const line = app
    .stdout()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"how"'));
  if (line === undefined) throw new Error(`no report from the app:\n${app.stderr()}`);
  return JSON.parse(line) as LoadReport;
}

/** created + recovered = exported + dropped + queued + inFlight + spooled, or fail with the stats. */
export function expectBalanced(s: PipelineStats): void {
  expect(balanced(s), JSON.stringify(s)).to.equal(true);
}

/** Every `seq` from 0 to `count` - 1 arrived exactly once, and nothing else. */
export function expectEachOnce(receiver: LoadReceiver, count: number): void {
  const missing: number[] = [];
  const twice: number[] = [];
  for (let seq = 0; seq < count; seq++) {
    const n = receiver.seen.get(seq) ?? 0;
    if (n === 0) missing.push(seq);
    if (n > 1) twice.push(seq);
  }
  expect({ missing: missing.slice(0, 10), twice: twice.slice(0, 10) }).to.deep.equal({
    missing: [],
    twice: [],
  });
  expect(receiver.count).to.equal(count);
}
