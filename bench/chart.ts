/**
 * Renders docs/images/benchmarks.svg from the runs of one benchmark: a grid
 * of horizontal bar charts, one row per workload (steady, burst) and one
 * column per measure (records/s, CPU µs per record), a bar per pipeline at
 * its median over the rounds. The floor and the official transport have
 * their own colours and a dashed line across each panel, so every other bar
 * reads against them.
 *
 * Hand-written SVG, no chart library: text in a system sans-serif font, an
 * opaque white background so that it reads the same in GitHub's light and
 * dark themes. Each bar carries `data-*` attributes with what it shows.
 */
import { cpuPerRecord, loss, median, rate, runsOf, type Run } from './results.js';
import { PIPELINES, WORKLOADS, type Pipeline, type Workload } from './run-protocol.js';

export interface ChartSettings {
  readonly rounds: number;
  readonly records: number;
}

interface Measure {
  readonly key: 'rate' | 'cpu';
  readonly title: string;
  readonly axis: string;
  readonly of: (run: Run) => number;
  readonly label: (x: number) => string;
  readonly tick: (x: number) => string;
}

const MEASURES: readonly Measure[] = [
  {
    key: 'rate',
    title: 'records/s',
    axis: 'records per second, median (higher is better)',
    of: rate,
    label: (x) => Math.round(x).toLocaleString('en-US'),
    tick: (x) => (x >= 1000 ? `${(x / 1000).toLocaleString('en-US')}k` : String(x)),
  },
  {
    key: 'cpu',
    title: 'CPU µs per record',
    axis: 'main-thread CPU µs per record, median (lower is better)',
    of: cpuPerRecord,
    label: (x) => x.toFixed(2),
    tick: (x) => String(Number(x.toPrecision(6))),
  },
];

const WORKLOAD_TITLES: Record<Workload, string> = {
  steady: 'Steady: a yield every 100 calls',
  burst: 'Burst: every record in one synchronous loop',
};

const COLORS = {
  background: '#ffffff',
  border: '#d0d7de',
  text: '#1f2328',
  muted: '#59636e',
  grid: '#e6e9ed',
  stripe: '#f6f8fa',
  floor: '#8c959f',
  official: '#d4761c',
  ours: '#1f6feb',
  oursOther: '#79a8f0',
} as const;

/** The role of a pipeline in the picture: the reference lines, the headline, the variants. */
function colorOf(pipeline: Pipeline): string {
  if (pipeline === 'floor') return COLORS.floor;
  if (pipeline === 'official') return COLORS.official;
  return pipeline === 'ours' ? COLORS.ours : COLORS.oursOther;
}

// Geometry, in px.
const WIDTH = 960;
const MARGIN = 16;
const LABEL_WIDTH = 96;
const PANEL_GAP = 36;
/** Room right of a panel's axis for the value at the end of the longest bar. */
const VALUE_ROOM = 64;
const BAR_PITCH = 22;
const BAR_HEIGHT = 14;
const HEADER_HEIGHT = 96;
const ROW_TITLE_HEIGHT = 40;
const AXIS_HEIGHT = 40;
const ROW_GAP = 12;
const FOOTER_HEIGHT = 26;
const PANEL_WIDTH = (WIDTH - 2 * MARGIN - LABEL_WIDTH - PANEL_GAP) / 2;
/** The length of the axis: the longest bar is at most this long. */
const PLOT_WIDTH = PANEL_WIDTH - VALUE_ROOM;

/** Escapes text for an XML text node or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

/** A round step of 1, 2 or 5 × 10ⁿ that divides [0, max] into about `ticks` parts. */
export function niceStep(max: number, ticks = 4): number {
  if (!(max > 0)) return 1;
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  return step;
}

const px = (x: number): string => String(Math.round(x * 100) / 100);

interface Attributes {
  readonly [name: string]: string | number | undefined;
}

function tag(name: string, attributes: Attributes, content?: string): string {
  const attrs = Object.entries(attributes)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? px(v) : escapeXml(v!)}"`)
    .join('');
  return content === undefined ? `<${name}${attrs}/>` : `<${name}${attrs}>${content}</${name}>`;
}

const text = (attributes: Attributes, content: string): string =>
  tag('text', attributes, escapeXml(content));

/** The pipelines that have runs, in the benchmark's order. */
function pipelinesIn(runs: readonly Run[]): Pipeline[] {
  return PIPELINES.filter((p) => runs.some((r) => r.pipeline === p));
}

/** The median of `measure` over the runs of `pipeline` in `workload`, if it ran. */
function medianOf(
  runs: readonly Run[],
  pipeline: Pipeline,
  workload: Workload,
  measure: Measure,
): number | undefined {
  const of = runsOf(runs, pipeline, workload);
  return of.length === 0 ? undefined : median(of.map(measure.of));
}

function panel(
  runs: readonly Run[],
  pipelines: readonly Pipeline[],
  workload: Workload,
  measure: Measure,
  x0: number,
  y0: number,
): string[] {
  const values = pipelines.map((p) => medianOf(runs, p, workload, measure));
  const max = Math.max(0, ...values.filter((v): v is number => v !== undefined));
  const step = niceStep(max);
  const axisMax = Math.max(step, Math.ceil(max / step) * step);
  const scale = PLOT_WIDTH / axisMax;
  const plotHeight = pipelines.length * BAR_PITCH;
  const out: string[] = [
    text(
      { x: x0, y: y0 - 8, 'font-size': 13, 'font-weight': 600, fill: COLORS.text },
      measure.title,
    ),
  ];
  // The grid and its ticks.
  for (let t = 0; t <= axisMax + step / 2; t += step) {
    const x = x0 + t * scale;
    out.push(
      tag('line', { x1: x, y1: y0, x2: x, y2: y0 + plotHeight, stroke: COLORS.grid }),
      text(
        {
          x,
          y: y0 + plotHeight + 14,
          'font-size': 11,
          fill: COLORS.muted,
          'text-anchor': 'middle',
        },
        measure.tick(t),
      ),
    );
  }
  out.push(
    text(
      {
        x: x0 + PLOT_WIDTH / 2,
        y: y0 + plotHeight + 32,
        'font-size': 11,
        fill: COLORS.muted,
        'text-anchor': 'middle',
      },
      measure.axis,
    ),
  );
  // The reference lines: the floor and the official transport, across the panel, behind the bars.
  for (const reference of ['floor', 'official'] as const) {
    const i = pipelines.indexOf(reference);
    const value = i < 0 ? undefined : values[i];
    if (value === undefined) continue;
    const x = x0 + value * scale;
    out.push(
      tag('line', {
        x1: x,
        y1: y0 - 2,
        x2: x,
        y2: y0 + plotHeight,
        stroke: colorOf(reference),
        'stroke-width': 1.5,
        'stroke-dasharray': '4 3',
        'data-reference': reference,
      }),
    );
  }
  // The bars.
  pipelines.forEach((pipeline, i) => {
    const value = values[i];
    if (value === undefined) return;
    const y = y0 + i * BAR_PITCH + (BAR_PITCH - BAR_HEIGHT) / 2;
    const width = value * scale;
    out.push(
      tag(
        'rect',
        {
          x: x0,
          y,
          width,
          height: BAR_HEIGHT,
          fill: colorOf(pipeline),
          'data-pipeline': pipeline,
          'data-workload': workload,
          'data-measure': measure.key,
          'data-value': String(value),
        },
        tag(
          'title',
          {},
          escapeXml(`${pipeline}, ${workload}: ${measure.label(value)} ${measure.title}`),
        ),
      ),
      text(
        { x: x0 + width + 4, y: y + BAR_HEIGHT - 3, 'font-size': 11, fill: COLORS.text },
        measure.label(value) + lossNote(runs, pipeline, workload, measure),
      ),
    );
  });
  out.push(
    tag('line', {
      x1: x0,
      y1: y0 + plotHeight,
      x2: x0 + PLOT_WIDTH,
      y2: y0 + plotHeight,
      stroke: COLORS.muted,
    }),
  );
  return out;
}

function legend(y: number): string[] {
  const items: Array<[string, string]> = [
    [COLORS.floor, 'floor: winston alone (a transport that only calls back)'],
    [COLORS.official, 'official: @opentelemetry/winston-transport + stock batch processor'],
    [COLORS.ours, 'ours: OtelTransport + LogPipeline'],
    [COLORS.oursOther, 'variants of ours'],
  ];
  const out: string[] = [];
  let x = MARGIN;
  const rowY = [y, y + 18];
  items.forEach(([color, label], i) => {
    const line = i < 2 ? 0 : 1;
    if (i === 2) x = MARGIN;
    out.push(
      tag('rect', { x, y: rowY[line]! - 10, width: 12, height: 12, fill: color }),
      text({ x: x + 17, y: rowY[line], 'font-size': 12, fill: COLORS.text }, label),
    );
    x += 17 + label.length * 6.3 + 24;
  });
  return out;
}

/**
 * For records/s: what share of the records logged never arrived (median over
 * the rounds), so that a fast bar that dropped most of them says so.
 */
function lossNote(
  runs: readonly Run[],
  pipeline: Pipeline,
  workload: Workload,
  measure: Measure,
): string {
  if (measure.key !== 'rate') return '';
  const shares = runsOf(runs, pipeline, workload).flatMap((run) => {
    const lost = loss(run);
    return lost === undefined ? [] : [lost / run.measurement.records];
  });
  if (shares.length === 0) return '';
  const share = median(shares);
  return share > 0 ? `, ${(share * 100).toFixed(1)}% lost` : '';
}

/** The SVG of the runs' medians; `settings` says how many rounds and records they are. */
export function renderChart(runs: readonly Run[], settings: ChartSettings): string {
  const pipelines = pipelinesIn(runs);
  const workloads = WORKLOADS.filter((w) => runs.some((r) => r.workload === w));
  const rowHeight = ROW_TITLE_HEIGHT + pipelines.length * BAR_PITCH + AXIS_HEIGHT + ROW_GAP;
  const height = HEADER_HEIGHT + workloads.length * rowHeight + FOOTER_HEIGHT;
  const title = `otel-winston benchmark: ${settings.records.toLocaleString('en-US')} records per run, medians of ${settings.rounds} round${settings.rounds === 1 ? '' : 's'}`;
  const body: string[] = [
    tag('title', {}, escapeXml(title)),
    tag('rect', {
      x: 0.5,
      y: 0.5,
      width: WIDTH - 1,
      height: height - 1,
      rx: 6,
      fill: COLORS.background,
      stroke: COLORS.border,
    }),
    text({ x: MARGIN, y: 28, 'font-size': 16, 'font-weight': 600, fill: COLORS.text }, title),
    ...legend(54),
  ];
  workloads.forEach((workload, row) => {
    const top = HEADER_HEIGHT + row * rowHeight;
    const y0 = top + ROW_TITLE_HEIGHT;
    body.push(
      text(
        { x: MARGIN, y: top + 14, 'font-size': 14, 'font-weight': 600, fill: COLORS.text },
        WORKLOAD_TITLES[workload],
      ),
    );
    pipelines.forEach((pipeline, i) => {
      const y = y0 + i * BAR_PITCH;
      if (i % 2 === 1)
        body.push(
          tag('rect', {
            x: MARGIN,
            y,
            width: WIDTH - 2 * MARGIN,
            height: BAR_PITCH,
            fill: COLORS.stripe,
          }),
        );
      const reference = pipeline === 'floor' || pipeline === 'official';
      body.push(
        text(
          {
            x: MARGIN + LABEL_WIDTH - 8,
            y: y + BAR_PITCH / 2 + 4,
            'font-size': 12,
            'font-weight': reference || pipeline === 'ours' ? 600 : undefined,
            fill: reference ? colorOf(pipeline) : COLORS.text,
            'text-anchor': 'end',
          },
          pipeline,
        ),
      );
    });
    MEASURES.forEach((measure, column) => {
      const x0 = MARGIN + LABEL_WIDTH + column * (PANEL_WIDTH + PANEL_GAP);
      body.push(...panel(runs, pipelines, workload, measure, x0, y0));
    });
  });
  body.push(
    text(
      { x: MARGIN, y: height - 12, 'font-size': 11, fill: COLORS.muted },
      'Dashed lines: the floor and the official transport. From npm run bench; redrawn by npm run bench:chart. Method and every number: docs/benchmarks.md.',
    ),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${px(height)}" viewBox="0 0 ${WIDTH} ${px(height)}" font-family="-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif" role="img">`,
    ...body.map((line) => `  ${line}`),
    '</svg>',
    '',
  ].join('\n');
}
