import { SeverityNumber } from '@opentelemetry/api';

/** An explicit severity for some winston levels, by level name. */
export type SeverityMap = Readonly<Record<string, SeverityNumber>>;

/** winston's level sets, each level with the severity it maps to. */
const LEVEL_SETS: ReadonlyArray<Readonly<Record<string, readonly [rank: number, SeverityNumber]>>> =
  [
    // winston.config.npm.levels
    {
      error: [0, SeverityNumber.ERROR],
      warn: [1, SeverityNumber.WARN],
      info: [2, SeverityNumber.INFO],
      http: [3, SeverityNumber.DEBUG3],
      verbose: [4, SeverityNumber.DEBUG2],
      debug: [5, SeverityNumber.DEBUG],
      silly: [6, SeverityNumber.TRACE],
    },
    // winston.config.syslog.levels
    {
      emerg: [0, SeverityNumber.FATAL3],
      alert: [1, SeverityNumber.FATAL2],
      crit: [2, SeverityNumber.FATAL],
      error: [3, SeverityNumber.ERROR],
      warning: [4, SeverityNumber.WARN],
      notice: [5, SeverityNumber.INFO2],
      info: [6, SeverityNumber.INFO],
      debug: [7, SeverityNumber.DEBUG],
    },
    // winston.config.cli.levels
    {
      error: [0, SeverityNumber.ERROR],
      warn: [1, SeverityNumber.WARN],
      help: [2, SeverityNumber.INFO3],
      data: [3, SeverityNumber.INFO2],
      info: [4, SeverityNumber.INFO],
      debug: [5, SeverityNumber.DEBUG],
      prompt: [6, SeverityNumber.TRACE4],
      verbose: [7, SeverityNumber.TRACE3],
      input: [8, SeverityNumber.TRACE2],
      silly: [9, SeverityNumber.TRACE],
    },
  ];

/** Level names that mean the same in any custom level set. */
const WELL_KNOWN: Readonly<Record<string, SeverityNumber>> = {
  fatal: SeverityNumber.FATAL,
  emerg: SeverityNumber.FATAL3,
  emergency: SeverityNumber.FATAL3,
  alert: SeverityNumber.FATAL2,
  crit: SeverityNumber.FATAL,
  critical: SeverityNumber.FATAL,
  error: SeverityNumber.ERROR,
  err: SeverityNumber.ERROR,
  warn: SeverityNumber.WARN,
  warning: SeverityNumber.WARN,
  notice: SeverityNumber.INFO2,
  info: SeverityNumber.INFO,
  information: SeverityNumber.INFO,
  http: SeverityNumber.DEBUG3,
  verbose: SeverityNumber.DEBUG2,
  debug: SeverityNumber.DEBUG,
  trace: SeverityNumber.TRACE,
  silly: SeverityNumber.TRACE,
};

const MIN_SEVERITY = SeverityNumber.TRACE;
const MAX_SEVERITY = SeverityNumber.FATAL4;

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function matchingSet(levels: Readonly<Record<string, number>>): Record<string, number> | undefined {
  const names = Object.keys(levels);
  for (const set of LEVEL_SETS) {
    const setNames = Object.keys(set);
    if (setNames.length !== names.length) continue;
    if (setNames.every((name) => set[name]?.[0] === levels[name])) {
      return Object.fromEntries(setNames.map((name) => [name, set[name]![1]]));
    }
  }
  return undefined;
}

/**
 * The severity of every level of a winston level set (lower number = more
 * severe, as winston ranks them):
 * 1. an explicit `severityMap` entry;
 * 2. winston's npm, syslog and cli sets map as the official transport does;
 * 3. a well-known name (fatal, error, warn, info, debug, trace, …) keeps its meaning;
 * 4. any other level gets a severity by rank, between its known neighbours,
 *    or spread from FATAL to TRACE when no level of the set is known.
 */
export function severitiesForLevels(
  levels: Readonly<Record<string, number>>,
  explicit: SeverityMap = {},
): Map<string, SeverityNumber> {
  const result = new Map<string, SeverityNumber>();
  const builtIn = matchingSet(levels);
  const ranked = Object.keys(levels)
    .filter((name) => typeof levels[name] === 'number' && Number.isFinite(levels[name]))
    .sort((a, b) => levels[a]! - levels[b]!);

  for (const name of ranked) {
    const known = explicit[name] ?? builtIn?.[name] ?? WELL_KNOWN[name];
    if (known !== undefined) result.set(name, known);
  }
  const unknown = ranked.filter((name) => !result.has(name));
  if (unknown.length === 0) return result;

  const anchors = ranked.filter((name) => result.has(name));
  if (anchors.length === 0) {
    // Nothing known: spread the set over FATAL..TRACE by position.
    const span = Math.max(1, ranked.length - 1);
    ranked.forEach((name, index) => {
      const severity =
        SeverityNumber.FATAL - ((SeverityNumber.FATAL - MIN_SEVERITY) * index) / span;
      result.set(name, Math.round(severity) as SeverityNumber);
    });
    return result;
  }
  for (const name of unknown) {
    const rank = levels[name]!;
    let above: string | undefined; // the nearest known level that is more severe
    let below: string | undefined; // the nearest known level that is less severe
    for (const anchor of anchors) {
      if (levels[anchor]! <= rank) above = anchor;
      else if (below === undefined) below = anchor;
    }
    let severity: number;
    if (above !== undefined && below !== undefined) {
      const high = result.get(above)!;
      const low = result.get(below)!;
      const fraction = (rank - levels[above]!) / (levels[below]! - levels[above]!);
      severity = Math.round(high - (high - low) * fraction);
      if (high - low >= 2) severity = clamp(severity, low + 1, high - 1);
    } else if (above !== undefined) {
      severity = result.get(above)! - (rank - levels[above]!);
    } else {
      severity = result.get(below!)! + (levels[below!]! - rank);
    }
    result.set(name, clamp(severity, MIN_SEVERITY, MAX_SEVERITY) as SeverityNumber);
  }
  return result;
}

/** The severity of a level name with no level set to rank it in. */
export function severityForName(name: string, explicit: SeverityMap = {}): SeverityNumber {
  return explicit[name] ?? WELL_KNOWN[name] ?? SeverityNumber.UNSPECIFIED;
}
