/**
 * Terminal output with ANSI colours → a picture of a terminal, as SVG: a
 * dark window with a title bar, each line in a monospace font, the SGR
 * codes (bold, dim, the 16 colours) turned into fills and weights. Other
 * escape sequences are dropped. Used by `npm run docs:tail`
 * (scripts/tail-picture.ts) for docs/images/tail.svg.
 */

/** A run of text in one style. */
export interface Segment {
  readonly text: string;
  /** An index into the 16-colour palette (0–7 normal, 8–15 bright), or undefined for the default. */
  readonly color: number | undefined;
  readonly bold: boolean;
  readonly dim: boolean;
}

/** A dark palette close to GitHub's dark theme: black, red, green, yellow, blue, magenta, cyan, white, then bright. */
export const PALETTE: readonly string[] = [
  '#484f58',
  '#ff7b72',
  '#3fb950',
  '#d29922',
  '#58a6ff',
  '#bc8cff',
  '#39c5cf',
  '#b1bac4',
  '#8b949e',
  '#ffa198',
  '#56d364',
  '#e3b341',
  '#79c0ff',
  '#d2a8ff',
  '#56d4dd',
  '#ffffff',
];
const FOREGROUND = '#e6edf3';
const BACKGROUND = '#0d1117';
const TITLE_BAR = '#161b22';
const BORDER = '#30363d';

// Geometry, in px: a 13px monospace font is about 7.8px wide.
const FONT_SIZE = 13;
const CHAR_WIDTH = 7.8;
const LINE_HEIGHT = 18;
const PADDING = 16;
const TITLE_HEIGHT = 30;

// Everything that starts with ESC: CSI sequences (ESC [ params final) and two-character escapes (ESC 7, ESC c).
// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b(?:\[([0-9;?]*)([@-~])|[0-~])/g;

/** Splits one line of terminal output into styled segments, following its SGR codes. */
export function parseAnsiLine(
  line: string,
  initial: Omit<Segment, 'text'> = { color: undefined, bold: false, dim: false },
): { segments: Segment[]; style: Omit<Segment, 'text'> } {
  const segments: Segment[] = [];
  let style = { ...initial };
  let last = 0;
  const push = (text: string): void => {
    if (text !== '') segments.push({ text, ...style });
  };
  for (const match of line.matchAll(ESCAPE)) {
    push(line.slice(last, match.index));
    last = match.index + match[0].length;
    if (match[2] !== 'm') continue; // a CSI sequence that is not a colour: cursor movement and the like
    const codes = (match[1] ?? '').split(';').map((c) => (c === '' ? 0 : Number(c)));
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i]!;
      if (code === 0) style = { color: undefined, bold: false, dim: false };
      else if (code === 1) style.bold = true;
      else if (code === 2) style.dim = true;
      else if (code === 22) style = { ...style, bold: false, dim: false };
      else if (code >= 30 && code <= 37) style.color = code - 30;
      else if (code >= 90 && code <= 97) style.color = code - 90 + 8;
      else if (code === 39) style.color = undefined;
      else if (code === 38 || code === 48) i += codes[i + 1] === 5 ? 2 : 4; // 256 or RGB: not drawn
    }
  }
  push(line.slice(last));
  return { segments, style };
}

/** Splits terminal output into lines of styled segments; a style carries over a line break. */
export function parseAnsi(output: string): Segment[][] {
  const lines: Segment[][] = [];
  let style: Omit<Segment, 'text'> | undefined;
  for (const line of output.replace(/\r\n?/g, '\n').split('\n')) {
    const parsed = parseAnsiLine(line, style);
    lines.push(parsed.segments);
    style = parsed.style;
  }
  return lines;
}

/** Escapes text for an XML text node or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

/** The columns `text` takes in a terminal: one per code point. */
const columns = (text: string): number => [...text].length;

const round = (x: number): number => Math.round(x * 100) / 100;

function fillOf(segment: Segment): string {
  if (segment.color !== undefined) return PALETTE[segment.color]!;
  return segment.dim ? PALETTE[8]! : FOREGROUND;
}

export interface TerminalOptions {
  /** The window's title. */
  readonly title: string;
  /** The least width, in columns. @default 80 */
  readonly columns?: number;
}

/** A picture of a terminal window showing `output` (text with ANSI codes), as SVG. */
export function renderTerminalSvg(output: string, options: TerminalOptions): string {
  const lines = parseAnsi(output.replace(/\n+$/, ''));
  const width = Math.max(
    options.columns ?? 80,
    ...lines.map((segments) => columns(segments.map((s) => s.text).join(''))),
  );
  // One column to spare: a monospace font may be a little wider than CHAR_WIDTH.
  const svgWidth = round(2 * PADDING + (width + 1) * CHAR_WIDTH);
  const svgHeight = TITLE_HEIGHT + 2 * PADDING + lines.length * LINE_HEIGHT - 4;
  const body: string[] = [];
  lines.forEach((segments, row) => {
    if (segments.length === 0) return;
    const y = TITLE_HEIGHT + PADDING + row * LINE_HEIGHT + FONT_SIZE - 2;
    let column = 0;
    const spans = segments.map((segment) => {
      const attributes = [
        `x="${round(PADDING + column * CHAR_WIDTH)}"`,
        `fill="${fillOf(segment)}"`,
      ];
      if (segment.bold) attributes.push('font-weight="bold"');
      if (segment.dim && segment.color !== undefined) attributes.push('fill-opacity="0.7"');
      column += columns(segment.text);
      return `<tspan ${attributes.join(' ')}>${escapeXml(segment.text)}</tspan>`;
    });
    body.push(`  <text y="${y}" xml:space="preserve">${spans.join('')}</text>`);
  });
  const dots = ['#ff5f57', '#febc2e', '#28c840'].map(
    (fill, i) => `  <circle cx="${18 + i * 18}" cy="${TITLE_HEIGHT / 2}" r="5.5" fill="${fill}"/>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${svgWidth}" height="${svgHeight}" viewBox="0 0 ${svgWidth} ${svgHeight}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace" font-size="${FONT_SIZE}" role="img">`,
    `  <title>${escapeXml(options.title)}</title>`,
    `  <rect x="0.5" y="0.5" width="${svgWidth - 1}" height="${svgHeight - 1}" rx="8" fill="${BACKGROUND}" stroke="${BORDER}"/>`,
    `  <path d="M0.5 ${TITLE_HEIGHT} V8.5 a8 8 0 0 1 8 -8 H${svgWidth - 8.5} a8 8 0 0 1 8 8 V${TITLE_HEIGHT} Z" fill="${TITLE_BAR}"/>`,
    `  <line x1="0.5" y1="${TITLE_HEIGHT}" x2="${svgWidth - 0.5}" y2="${TITLE_HEIGHT}" stroke="${BORDER}"/>`,
    ...dots,
    `  <text x="${round(svgWidth / 2)}" y="${TITLE_HEIGHT / 2 + 4}" fill="${PALETTE[8]}" font-size="12" text-anchor="middle">${escapeXml(options.title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
