import type { Context } from '@opentelemetry/api';
import type { AnyValue } from '../../mapping/any-value.js';
import { messageTemplateOf } from '../../context/call-capture.js';

/** The longest template kept as a rate limit's key, in UTF-16 code units; the rest is cut off. */
export const MAX_TEMPLATE_LENGTH = 200;

/**
 * The template of a record, the rate limit's key: the format string captured
 * at the call (`'user %s signed in'`), else the body with numbers, UUIDs and
 * hex ids replaced by `#` (`'GET /orders/# took #ms'`); a map body is keyed by
 * its first keys. At most {@link MAX_TEMPLATE_LENGTH} code units.
 */
export function templateOf(body: AnyValue | undefined, ctx: Context | undefined): string {
  const captured = messageTemplateOf(ctx);
  if (captured !== undefined) return captured.slice(0, MAX_TEMPLATE_LENGTH);
  if (typeof body === 'string') return normalizeMessage(body);
  if (body === undefined || body === null) return '';
  if (typeof body === 'object' && !Array.isArray(body) && !(body instanceof Uint8Array)) {
    return `{${Object.keys(body).slice(0, 8).join(',')}}`.slice(0, MAX_TEMPLATE_LENGTH);
  }
  return `[${Array.isArray(body) ? 'list' : typeof body}]`;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHexLetter = (c: number): boolean => (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isWordChar = (c: number): boolean =>
  isDigit(c) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

/** Whether `text[from, to)` is hex digits only. */
function isHexRun(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c) && !isHexLetter(c)) return false;
  }
  return true;
}

/** Whether a UUID (8-4-4-4-12 hex digits) starts at `at`. */
function isUuidAt(text: string, at: number): boolean {
  if (at + 36 > text.length) return false;
  for (const dash of [8, 13, 18, 23]) if (text.charCodeAt(at + dash) !== 45) return false;
  return (
    isHexRun(text, at, at + 8) &&
    isHexRun(text, at + 9, at + 13) &&
    isHexRun(text, at + 14, at + 18) &&
    isHexRun(text, at + 19, at + 23) &&
    isHexRun(text, at + 24, at + 36) &&
    (at + 36 === text.length || !isWordChar(text.charCodeAt(at + 36)))
  );
}

/**
 * `text` with what varies between records of one template replaced by `#`:
 * a UUID; a word of hex digits with at least one decimal digit (`7f3a9c`,
 * `0x1f`); any other run of decimal digits (`#ms`, `user#`, `#.#`). One pass
 * over at most {@link MAX_TEMPLATE_LENGTH} × 4 code units, so linear.
 */
export function normalizeMessage(text: string): string {
  const end = Math.min(text.length, MAX_TEMPLATE_LENGTH * 4);
  let out = '';
  let i = 0;
  while (i < end && out.length < MAX_TEMPLATE_LENGTH) {
    const c = text.charCodeAt(i);
    if (!isWordChar(c)) {
      out += text[i];
      i++;
      continue;
    }
    if ((i === 0 || !isWordChar(text.charCodeAt(i - 1))) && isUuidAt(text, i)) {
      out += '#';
      i += 36;
      continue;
    }
    let j = i;
    let digits = false;
    while (j < end && isWordChar(text.charCodeAt(j))) {
      if (isDigit(text.charCodeAt(j))) digits = true;
      j++;
    }
    if (!digits) {
      out += text.slice(i, j);
    } else if (
      isHexRun(text, i, j) ||
      (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X') && isHexRun(text, i + 2, j))
    ) {
      out += '#';
    } else {
      // Letters kept, each run of digits one '#'.
      for (let k = i; k < j;) {
        if (isDigit(text.charCodeAt(k))) {
          out += '#';
          while (k < j && isDigit(text.charCodeAt(k))) k++;
        } else {
          out += text[k];
          k++;
        }
      }
    }
    i = j;
  }
  return out.slice(0, MAX_TEMPLATE_LENGTH);
}

/** Messages normalised at most, cached; the cache starts over when full. */
const TEMPLATE_CACHE_SIZE = 1024;

/**
 * {@link templateOf} with the templates of recent string bodies kept: an app
 * logs the same messages over and over, and a string's hash is computed
 * once, so a repeated message costs a lookup instead of a scan.
 */
export class TemplateCache {
  readonly #cache = new Map<string, string>();

  of(body: AnyValue | undefined, ctx: Context | undefined): string {
    if (typeof body !== 'string' || messageTemplateOf(ctx) !== undefined) {
      return templateOf(body, ctx);
    }
    let template = this.#cache.get(body);
    if (template === undefined) {
      template = normalizeMessage(body);
      if (this.#cache.size >= TEMPLATE_CACHE_SIZE) this.#cache.clear();
      // Long bodies are not kept: the cache holds at most 1,024 × 800 code units.
      if (body.length <= MAX_TEMPLATE_LENGTH * 4) this.#cache.set(body, template);
    }
    return template;
  }
}
