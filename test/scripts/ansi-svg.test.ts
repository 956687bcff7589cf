import { expect } from 'chai';
import { PALETTE, parseAnsi, parseAnsiLine, renderTerminalSvg } from '../../scripts/ansi-svg.js';
import { elementsNamed, parseXml, textOf } from '../helpers/xml.js';

const ESC = '\u001b';
const plain = { color: undefined, bold: false, dim: false };

describe('scripts/ansi-svg: terminal output as a picture', () => {
  describe('parseAnsiLine', () => {
    it('splits a line at its SGR codes: colours, bold, dim, reset', () => {
      const { segments } = parseAnsiLine(
        `${ESC}[1mtrace 4bf9${ESC}[0m${ESC}[2m  service=shop${ESC}[0m ${ESC}[31mERROR${ESC}[0m ${ESC}[90mDEBUG${ESC}[39m x`,
      );
      expect(segments).to.deep.equal([
        { text: 'trace 4bf9', ...plain, bold: true },
        { text: '  service=shop', ...plain, dim: true },
        { text: ' ', ...plain },
        { text: 'ERROR', ...plain, color: 1 },
        { text: ' ', ...plain },
        { text: 'DEBUG', ...plain, color: 8 },
        { text: ' x', ...plain },
      ]);
    });

    it('takes several codes in one sequence, and 22 to end bold and dim', () => {
      const { segments } = parseAnsiLine(`${ESC}[1;33mWARN${ESC}[22m slow${ESC}[m.`);
      expect(segments).to.deep.equal([
        { text: 'WARN', ...plain, bold: true, color: 3 },
        { text: ' slow', ...plain, color: 3 },
        { text: '.', ...plain },
      ]);
    });

    it('drops escapes that are not colours, and skips 256-colour and RGB arguments', () => {
      const { segments } = parseAnsiLine(
        `${ESC}[2K${ESC}[1Ga${ESC}[38;5;196mb${ESC}[38;2;1;2;3;1mc${ESC}7d`,
      );
      expect(segments.map((s) => s.text).join('')).to.equal('abcd');
      expect(segments.at(-1)!.bold).to.equal(true);
    });
  });

  it('carries a style over a line break, as a terminal does', () => {
    const lines = parseAnsi(`${ESC}[32mone\r\ntwo${ESC}[0m\nthree`);
    expect(lines.map((l) => l.map((s) => [s.text, s.color]))).to.deep.equal([
      [['one', 2]],
      [['two', 2]],
      [['three', undefined]],
    ]);
  });

  describe('renderTerminalSvg', () => {
    const output = [
      `${ESC}[1mtrace 4bf92f35${ESC}[0m${ESC}[2m  service=shop${ESC}[0m`,
      `  ${ESC}[1mGET /orders/:id${ESC}[0m ${ESC}[2m[server] 12.0 ms${ESC}[0m`,
      `    │ ${ESC}[31mERROR${ESC}[0m <payment> & "card" declined`,
      '',
      `  ${ESC}[32mINFO ${ESC}[0m done`,
      '',
    ].join('\n');
    const svg = renderTerminalSvg(output, { title: 'otel-winston tail & more' });
    const root = parseXml(svg);
    const lines = elementsNamed(root, 'text').filter(
      (t) => t.attributes['xml:space'] === 'preserve',
    );

    it('is well-formed XML with an opaque dark background and a title', () => {
      expect(root.name).to.equal('svg');
      expect(elementsNamed(root, 'rect')[0]!.attributes.fill).to.equal('#0d1117');
      expect(textOf(elementsNamed(root, 'title')[0]!)).to.equal('otel-winston tail & more');
    });

    it('has a line of monospace text per line of output, empty lines kept as space', () => {
      expect(root.attributes['font-family']).to.include('monospace');
      expect(lines.map(textOf)).to.deep.equal([
        'trace 4bf92f35  service=shop',
        '  GET /orders/:id [server] 12.0 ms',
        '    │ ERROR <payment> & "card" declined',
        '  INFO  done',
      ]);
      const ys = lines.map((l) => Number(l.attributes.y));
      expect(ys[3]! - ys[2]!, 'the empty line keeps its height').to.equal(2 * (ys[2]! - ys[1]!));
    });

    it('maps the ANSI colours and weights to fills and font weights', () => {
      const spans = elementsNamed(root, 'tspan');
      const span = (text: string) => spans.find((s) => textOf(s) === text)!;
      expect(span('ERROR').attributes.fill).to.equal(PALETTE[1]);
      expect(span('INFO ').attributes.fill).to.equal(PALETTE[2]);
      expect(span('trace 4bf92f35').attributes['font-weight']).to.equal('bold');
      expect(span('  service=shop').attributes.fill).to.equal(PALETTE[8]);
    });

    it('places each run of text at its column, so that spaces and alignment survive', () => {
      const second = elementsNamed(lines[1]!, 'tspan');
      const xs = second.map((s) => Number(s.attributes.x));
      // "  " + "GET /orders/:id" + " " + "[server] 12.0 ms": columns 0, 2, 17, 18.
      const columnWidth = (xs[1]! - xs[0]!) / 2;
      expect(xs.map((x) => Math.round((x - xs[0]!) / columnWidth))).to.deep.equal([0, 2, 17, 18]);
      // │ counts as one column.
      const third = elementsNamed(lines[2]!, 'tspan');
      expect(Math.round((Number(third[1]!.attributes.x) - xs[0]!) / columnWidth)).to.equal(6);
    });

    it('is wide enough for the longest line, and at least 80 columns', () => {
      const narrow = parseXml(renderTerminalSvg('hi', { title: 't' }));
      const wide = parseXml(renderTerminalSvg('x'.repeat(120), { title: 't' }));
      expect(Number(wide.attributes.width)).to.be.greaterThan(
        Number(narrow.attributes.width) * 1.4,
      );
    });
  });
});
