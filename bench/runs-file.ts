/**
 * docs/benchmarks.json: the raw runs of the last `npm run bench` and its
 * settings, so that the chart can be drawn again (`npm run bench:chart`)
 * without running the benchmark again.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReportSettings } from './report.js';
import type { Run } from './results.js';

export const RUNS_FILE = fileURLToPath(new URL('../docs/benchmarks.json', import.meta.url));
export const CHART_FILE = fileURLToPath(new URL('../docs/images/benchmarks.svg', import.meta.url));

export interface SavedRuns {
  readonly settings: ReportSettings;
  readonly runs: readonly Run[];
}

export function saveRuns(saved: SavedRuns, file = RUNS_FILE): void {
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`);
}

/** Reads a file `saveRuns` wrote; throws naming the file when it is not one. */
export function loadRuns(file = RUNS_FILE): SavedRuns {
  if (!existsSync(file)) throw new Error(`No ${file}: \`npm run bench\` writes it`);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<SavedRuns>;
  if (!Array.isArray(saved.runs) || typeof saved.settings?.rounds !== 'number')
    throw new Error(`Expected ${file} to hold { settings, runs } from npm run bench`);
  return saved as SavedRuns;
}

/** Writes `svg` to `file`, creating its folder. */
export function writeChart(svg: string, file = CHART_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, svg);
}
