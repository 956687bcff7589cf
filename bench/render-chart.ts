/**
 * `npm run bench:chart`: draws docs/images/benchmarks.svg again from the runs
 * the last `npm run bench` saved in docs/benchmarks.json.
 */
import { relative } from 'node:path';
import { renderChart } from './chart.js';
import { CHART_FILE, loadRuns, RUNS_FILE, writeChart } from './runs-file.js';

const { settings, runs } = loadRuns();
writeChart(renderChart(runs, settings));
console.log(
  `wrote ${relative(process.cwd(), CHART_FILE)} from ${relative(process.cwd(), RUNS_FILE)} (${runs.length} runs)`,
);
