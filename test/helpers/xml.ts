/**
 * A strict parser for the small XML documents the repo generates (the SVG
 * pictures in docs/images): elements, attributes in quotes, text, comments,
 * the five predefined entities and numeric character references. It throws
 * on anything a real XML parser would reject in them: an unclosed or
 * mismatched tag, a duplicate or unquoted attribute, a bare `&` or `<`.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlNode[];
}
export type XmlNode = XmlElement | string;

const NAME = /^[A-Za-z_:][\w.:-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string, where: number): string {
  if (text.includes('<')) throw new Error(`a bare < at ${where}`);
  return text.replace(/&([^;]*);?/g, (match, ref: string) => {
    if (!match.endsWith(';')) throw new Error(`a bare & at ${where}: ${match}`);
    if (ref in ENTITIES) return ENTITIES[ref]!;
    const code = /^#x([0-9a-f]+)$/i.exec(ref)?.[1] ?? /^#([0-9]+)$/.exec(ref)?.[1];
    if (code === undefined) throw new Error(`an unknown entity at ${where}: &${ref};`);
    return String.fromCodePoint(ref.startsWith('#x') ? parseInt(code, 16) : Number(code));
  });
}

/** Parses `xml` into its root element; throws when it is not well-formed. */
export function parseXml(xml: string): XmlElement {
  let at = 0;
  const skipProlog = (): void => {
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(at))![0].length;
      at += ws;
      const close = xml.startsWith('<?', at) ? '?>' : xml.startsWith('<!--', at) ? '-->' : '';
      if (close === '') return;
      const end = xml.indexOf(close, at);
      if (end < 0) throw new Error(`an unterminated ${close === '?>' ? 'declaration' : 'comment'}`);
      at = end + close.length;
    }
  };

  const element = (): XmlElement => {
    if (xml[at] !== '<') throw new Error(`expected < at ${at}`);
    at++;
    const name = NAME.exec(xml.slice(at))?.[0];
    if (name === undefined) throw new Error(`expected a tag name at ${at}`);
    at += name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(at))![0].length;
      at += ws;
      if (xml.startsWith('/>', at)) {
        at += 2;
        return { name, attributes, children: [] };
      }
      if (xml[at] === '>') {
        at++;
        break;
      }
      if (ws === 0) throw new Error(`expected a space before an attribute at ${at}`);
      const attr = /^([A-Za-z_:][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(xml.slice(at));
      if (attr === null) throw new Error(`a malformed attribute in <${name}> at ${at}`);
      if (attr[1]! in attributes) throw new Error(`a duplicate attribute ${attr[1]} at ${at}`);
      attributes[attr[1]!] = decode(attr[3] ?? attr[4]!, at);
      at += attr[0].length;
    }
    const children: XmlNode[] = [];
    for (;;) {
      if (at >= xml.length) throw new Error(`<${name}> is never closed`);
      if (xml.startsWith('</', at)) {
        const close = /^<\/([^\s>]+)\s*>/.exec(xml.slice(at));
        if (close?.[1] !== name) throw new Error(`</${close?.[1]}> closes <${name}> at ${at}`);
        at += close[0].length;
        return { name, attributes, children };
      }
      if (xml.startsWith('<!--', at)) {
        const end = xml.indexOf('-->', at);
        if (end < 0) throw new Error(`an unterminated comment at ${at}`);
        at = end + 3;
      } else if (xml[at] === '<') {
        children.push(element());
      } else {
        const end = xml.indexOf('<', at);
        const stop = end < 0 ? xml.length : end;
        children.push(decode(xml.slice(at, stop), at));
        at = stop;
      }
    }
  };

  skipProlog();
  const root = element();
  skipProlog();
  if (at !== xml.length) throw new Error(`content after the root element at ${at}`);
  return root;
}

/** Every element under `root` (and `root` itself) named `name`, in document order. */
export function elementsNamed(root: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = root.name === name ? [root] : [];
  for (const child of root.children) {
    if (typeof child !== 'string') found.push(...elementsNamed(child, name));
  }
  return found;
}

/** The text inside `node`, its descendants' included. */
export function textOf(node: XmlNode): string {
  return typeof node === 'string' ? node : node.children.map(textOf).join('');
}
