import { SeverityNumber } from '@opentelemetry/api';
import { expect } from 'chai';
import winston from 'winston';
import { severitiesForLevels, severityForName } from '../../src/mapping/severity.js';
import { createLogCapture } from '../../src/testing/index.js';

const S = SeverityNumber;

/** Every level of winston's three level sets and the severity it must map to. */
const TABLE: ReadonlyArray<
  [set: string, levels: Record<string, number>, expected: Record<string, SeverityNumber>]
> = [
  [
    'npm',
    winston.config.npm.levels,
    {
      error: S.ERROR,
      warn: S.WARN,
      info: S.INFO,
      http: S.DEBUG3,
      verbose: S.DEBUG2,
      debug: S.DEBUG,
      silly: S.TRACE,
    },
  ],
  [
    'syslog',
    winston.config.syslog.levels,
    {
      emerg: S.FATAL3,
      alert: S.FATAL2,
      crit: S.FATAL,
      error: S.ERROR,
      warning: S.WARN,
      notice: S.INFO2,
      info: S.INFO,
      debug: S.DEBUG,
    },
  ],
  [
    'cli',
    winston.config.cli.levels,
    {
      error: S.ERROR,
      warn: S.WARN,
      help: S.INFO3,
      data: S.INFO2,
      info: S.INFO,
      debug: S.DEBUG,
      prompt: S.TRACE4,
      verbose: S.TRACE3,
      input: S.TRACE2,
      silly: S.TRACE,
    },
  ],
];

describe('severity mapping', () => {
  for (const [name, levels, expected] of TABLE) {
    describe(`winston ${name} levels`, () => {
      it('maps every level', () => {
        expect(Object.fromEntries(severitiesForLevels(levels))).to.deep.equal(expected);
      });

      it('keeps the order of the set: a more severe level never gets a lower severity', () => {
        const mapped = severitiesForLevels(levels);
        const ranked = Object.keys(levels).sort((a, b) => levels[a]! - levels[b]!);
        for (let i = 1; i < ranked.length; i++) {
          expect(mapped.get(ranked[i - 1]!)!, `${ranked[i - 1]} vs ${ranked[i]}`).to.be.at.least(
            mapped.get(ranked[i]!)!,
          );
        }
      });

      it('is what a record of each level carries end to end, with the level name as severity text', () => {
        const capture = createLogCapture();
        const logger = winston.createLogger({
          levels,
          level: Object.keys(levels).at(-1)!,
          transports: [capture.transport()],
        });
        for (const level of Object.keys(levels)) logger.log(level, `a ${level} record`);
        const got = Object.fromEntries(
          capture.records.map((r) => [r.severityText, r.severityNumber]),
        );
        expect(got).to.deep.equal(expected);
      });
    });
  }

  describe('custom levels', () => {
    it('keeps well-known names by meaning', () => {
      const mapped = severitiesForLevels({
        fatal: 0,
        error: 1,
        warn: 2,
        info: 3,
        debug: 4,
        trace: 5,
      });
      expect(Object.fromEntries(mapped)).to.deep.equal({
        fatal: S.FATAL,
        error: S.ERROR,
        warn: S.WARN,
        info: S.INFO,
        debug: S.DEBUG,
        trace: S.TRACE,
      });
    });

    it('places an unknown level between its known neighbours by rank', () => {
      const mapped = severitiesForLevels({ error: 0, audit: 1, warn: 2, info: 3 });
      expect(mapped.get('audit')).to.be.within(S.WARN + 1, S.ERROR - 1);
    });

    it('places unknown levels below the least severe known one, in order', () => {
      const mapped = severitiesForLevels({ info: 0, chatty: 1, noisy: 2 });
      expect(mapped.get('chatty')).to.equal(S.INFO - 1);
      expect(mapped.get('noisy')).to.equal(S.INFO - 2);
    });

    it('spreads a set with no known name from FATAL to TRACE', () => {
      const mapped = severitiesForLevels({ red: 0, amber: 1, green: 2 });
      expect(mapped.get('red')).to.equal(S.FATAL);
      expect(mapped.get('green')).to.equal(S.TRACE);
      expect(mapped.get('amber')).to.be.within(S.TRACE + 1, S.FATAL - 1);
    });

    it('lets an explicit map win over every default', () => {
      const mapped = severitiesForLevels(winston.config.npm.levels, {
        http: S.INFO2,
        error: S.ERROR3,
      });
      expect(mapped.get('http')).to.equal(S.INFO2);
      expect(mapped.get('error')).to.equal(S.ERROR3);
      expect(mapped.get('warn')).to.equal(S.WARN);
    });

    it('maps a custom level end to end (the official transport leaves it undefined)', () => {
      const capture = createLogCapture();
      const logger = winston.createLogger({
        levels: { error: 0, audit: 1, info: 2 },
        level: 'info',
        transports: [capture.transport({ severityMap: { audit: S.INFO4 } })],
      });
      logger.log('audit', 'user exported data');
      expect(capture.records[0]).to.include({ severityNumber: S.INFO4, severityText: 'audit' });
    });

    it('falls back to the name, then UNSPECIFIED, with no level set at all', () => {
      expect(severityForName('warning')).to.equal(S.WARN);
      expect(severityForName('whatever')).to.equal(S.UNSPECIFIED);
      expect(severityForName('whatever', { whatever: S.DEBUG3 })).to.equal(S.DEBUG3);
    });
  });
});
