import { expect } from 'chai';
import { escapeXml, niceStep, renderChart } from '../../bench/chart.js';
import type { Run } from '../../bench/results.js';
import type { Pipeline, Workload } from '../../bench/run-protocol.js';
import { elementsNamed, parseXml, textOf, type XmlElement } from '../helpers/xml.js';

/** A run of 1,000 records that took `wallMs` and `cpuUs`. */
function run(
  round: number,
  pipeline: Pipeline,
  workload: Workload,
  wallMs: number,
  cpuUs: number,
  received = 1000,
): Run {
  return {
    round,
    pipeline,
    workload,
    received: pipeline === 'floor' ? undefined : received,
    measurement: {
      records: 1000,
      wallMs,
      cpuUs,
      loopDelayP99Ms: undefined,
      loopDelayMaxMs: undefined,
      rssGrowthMiB: 1,
    },
  };
}

// Two rounds; the medians are the means of the two.
const RUNS: Run[] = [
  run(1, 'floor', 'steady', 5, 4000), // 200,000 records/s, 4 µs
  run(2, 'floor', 'steady', 10, 6000), // 100,000 records/s, 6 µs
  run(1, 'official', 'steady', 20, 20_000), // 50,000 records/s, 20 µs
  run(2, 'official', 'steady', 20, 22_000),
  run(1, 'ours', 'steady', 10, 10_000), // 100,000 records/s, 10 µs
  run(2, 'ours', 'steady', 10, 12_000),
  run(1, 'floor', 'burst', 4, 3000), // 250,000 records/s, 3 µs
  run(2, 'floor', 'burst', 4, 3000),
  run(1, 'official', 'burst', 25, 16_000, 13), // 40,000 records/s, 16 µs, 98.7% lost
  run(2, 'official', 'burst', 25, 16_000, 13),
  run(1, 'ours', 'burst', 8, 8000), // 125,000 records/s, 8 µs
  run(2, 'ours', 'burst', 8, 8000),
];

const MEDIANS: Record<Workload, Record<'rate' | 'cpu', Partial<Record<Pipeline, number>>>> = {
  steady: {
    rate: { floor: 150_000, official: 50_000, ours: 100_000 },
    cpu: { floor: 5, official: 21, ours: 11 },
  },
  burst: {
    rate: { floor: 250_000, official: 40_000, ours: 125_000 },
    cpu: { floor: 3, official: 16, ours: 8 },
  },
};

const svg = renderChart(RUNS, { rounds: 2, records: 1000 });
const root = parseXml(svg);
const bars = elementsNamed(root, 'rect').filter((r) => r.attributes['data-pipeline']);
const texts = elementsNamed(root, 'text').map(textOf);
const num = (el: XmlElement, name: string): number => Number(el.attributes[name]);

describe('bench/chart: the SVG of a benchmark', () => {
  it('is well-formed XML: one <svg> with a size and an opaque background', () => {
    expect(root.name).to.equal('svg');
    expect(root.attributes.xmlns).to.equal('http://www.w3.org/2000/svg');
    expect(root.attributes.viewBox).to.match(/^0 0 \d+ [\d.]+$/);
    const background = elementsNamed(root, 'rect')[0]!;
    expect(background.attributes.fill).to.equal('#ffffff');
    expect(num(background, 'width')).to.be.greaterThan(num(root, 'width') - 2);
  });

  it('has a bar per pipeline, workload and measure, at the median of the rounds', () => {
    expect(bars).to.have.length(3 * 2 * 2);
    for (const [workload, measures] of Object.entries(MEDIANS)) {
      for (const [measure, values] of Object.entries(measures)) {
        for (const [pipeline, value] of Object.entries(values)) {
          const bar = bars.find(
            (b) =>
              b.attributes['data-workload'] === workload &&
              b.attributes['data-measure'] === measure &&
              b.attributes['data-pipeline'] === pipeline,
          );
          expect(bar, `${workload} ${measure} ${pipeline}`).to.not.equal(undefined);
          expect(num(bar!, 'data-value')).to.be.closeTo(value, 1e-9);
        }
      }
    }
  });

  it('draws bars in proportion to their values, within each panel, from one baseline', () => {
    for (const workload of ['steady', 'burst']) {
      for (const measure of ['rate', 'cpu']) {
        const panel = bars.filter(
          (b) =>
            b.attributes['data-workload'] === workload && b.attributes['data-measure'] === measure,
        );
        expect(new Set(panel.map((b) => b.attributes.x)).size, 'one baseline').to.equal(1);
        const perUnit = panel.map((b) => num(b, 'width') / num(b, 'data-value'));
        for (const scale of perUnit) expect(scale).to.be.closeTo(perUnit[0]!, perUnit[0]! * 0.001);
        // The longest bar is most of the panel, not a sliver of it.
        const longest = Math.max(...panel.map((b) => num(b, 'width')));
        expect(longest).to.be.within(150, 400);
      }
    }
  });

  it('marks the floor and the official transport with a line at the end of their bars', () => {
    const lines = elementsNamed(root, 'line').filter((l) => l.attributes['data-reference']);
    expect(lines).to.have.length(2 * 2 * 2);
    for (const bar of bars.filter((b) =>
      ['floor', 'official'].includes(b.attributes['data-pipeline']!),
    )) {
      const end = num(bar, 'x') + num(bar, 'width');
      const line = lines.find(
        (l) =>
          l.attributes['data-reference'] === bar.attributes['data-pipeline'] &&
          Math.abs(num(l, 'x1') - end) < 0.01,
      );
      expect(line, `${bar.attributes['data-pipeline']}`).to.not.equal(undefined);
      expect(line!.attributes['stroke-dasharray']).to.not.equal(undefined);
    }
    expect(new Set(bars.map((b) => b.attributes.fill)).size, 'floor, official, ours').to.equal(3);
  });

  it('labels the pipelines, the values, the axes and the workloads', () => {
    for (const pipeline of ['floor', 'official', 'ours']) expect(texts).to.include(pipeline);
    expect(texts).to.not.include('ours-spill'); // no runs, no row
    expect(texts).to.include('records/s');
    expect(texts).to.include('CPU µs per record');
    expect(texts).to.include('records per second, median (higher is better)');
    expect(texts).to.include('main-thread CPU µs per record, median (lower is better)');
    expect(texts).to.include('150,000');
    expect(texts).to.include('11.00');
    expect(texts.some((t) => t.startsWith('Steady'))).to.equal(true);
    expect(texts.some((t) => t.startsWith('Burst'))).to.equal(true);
    expect(texts[0]).to.equal('otel-winston benchmark: 1,000 records per run, medians of 2 rounds');
    // A pipeline that lost records says so next to its records/s, and only there.
    expect(texts).to.include('40,000, 98.7% lost');
    expect(texts).to.include('125,000');
    expect(texts.filter((t) => t.includes('lost'))).to.have.length(1);
    // Ticks from 0 in round steps.
    expect(texts).to.include.members(['0', '50k', '100k', '150k']);
  });

  it('escapes text for XML', () => {
    expect(escapeXml(`a < b & "c" > 'd'`)).to.equal(
      'a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;',
    );
    expect(textOf(parseXml(`<t>${escapeXml('<&>')}</t>`))).to.equal('<&>');
  });

  it('divides an axis in steps of 1, 2 or 5 × 10ⁿ', () => {
    expect(niceStep(195_071)).to.equal(50_000);
    expect(niceStep(22.93)).to.equal(10);
    expect(niceStep(17.64)).to.equal(5);
    expect(niceStep(0.3)).to.equal(0.1);
    expect(niceStep(0)).to.equal(1);
  });
});

describe('test/helpers/xml: the well-formedness check', () => {
  it('rejects what an XML parser rejects', () => {
    for (const bad of [
      '<a><b></a>',
      '<a>',
      '<a x=1/>',
      '<a x="1" x="2"/>',
      '<a>&</a>',
      '<a>&nbsp;</a>',
      '<a/><b/>',
      '<a x="<"/>',
    ]) {
      expect(() => parseXml(bad), bad).to.throw();
    }
    expect(
      parseXml('<?xml version="1.0"?>\n<a x="&amp;">&#x41;&#66;<!-- c --></a>\n'),
    ).to.deep.equal({
      name: 'a',
      attributes: { x: '&' },
      children: ['AB'],
    });
  });
});
