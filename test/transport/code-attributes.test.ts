import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import winston from 'winston';
import { createLogCapture } from '../../src/testing/index.js';

const THIS_FILE = fileURLToPath(import.meta.url);

/** The line of the call to `lineOfNextCall()` plus one: the line below it. */
function lineOfNextCall(): number {
  const stack = new Error().stack!.split('\n')[2]!;
  return Number(/:(\d+):\d+\)?$/.exec(stack)![1]) + 1;
}

describe('OtelTransport: code attributes (includeCodeAttributes)', () => {
  const capture = createLogCapture();
  afterEach(() => capture.reset());

  const logger = (includeCodeAttributes?: boolean) =>
    winston.createLogger({
      transports: [
        capture.transport(includeCodeAttributes === undefined ? {} : { includeCodeAttributes }),
      ],
    });

  it('are where the app made the call: function, file, line and column', () => {
    const log = logger(true);
    function placeOrder(): number {
      const line = lineOfNextCall();
      log.info('order placed', { id: 7 });
      return line;
    }
    const line = placeOrder();
    const attributes = capture.records[0]!.attributes;
    expect(attributes).to.include({
      'code.function.name': 'placeOrder',
      'code.file.path': THIS_FILE,
      'code.line.number': line,
      id: 7,
    });
    expect(attributes['code.column.number']).to.be.a('number').and.be.greaterThan(0);
  });

  it('are the same for log(), a child logger and a method of a class', () => {
    const log = logger(true);
    class Checkout {
      pay(): void {
        log.child({ component: 'pay' }).warn('declined');
      }
    }
    const line = lineOfNextCall();
    log.log('info', 'via log()');
    new Checkout().pay();
    const [viaLog, viaChild] = capture.records;
    expect(viaLog!.attributes).to.include({
      'code.file.path': THIS_FILE,
      'code.line.number': line,
    });
    expect(viaChild!.attributes).to.include({
      'code.function.name': 'Checkout.pay',
      'code.file.path': THIS_FILE,
      component: 'pay',
    });
  });

  it('are left out by default, and the app’s own Error.prepareStackTrace and stackTraceLimit are untouched', () => {
    logger().info('plain');
    expect(Object.keys(capture.records[0]!.attributes).filter((k) => k.startsWith('code.'))).to.be
      .empty;
    const prepare = (_e: Error, frames: NodeJS.CallSite[]) => `frames: ${frames.length}`;
    const before = { prepare: Error.prepareStackTrace, limit: Error.stackTraceLimit };
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = 7;
    try {
      logger(true).info('with a custom prepareStackTrace');
      expect(Error.prepareStackTrace).to.equal(prepare);
      expect(Error.stackTraceLimit).to.equal(7);
      expect(new Error('x').stack).to.match(/^frames: \d+$/);
    } finally {
      Error.prepareStackTrace = before.prepare;
      Error.stackTraceLimit = before.limit;
    }
    expect(capture.records[1]!.attributes['code.file.path']).to.equal(THIS_FILE);
  });

  it('are turned on by OTEL_WINSTON_CODE_ATTRIBUTES=true (a real process)', async () => {
    const script = `
      const winston = require('winston');
      const { OtelTransport } = require('otel-winston');
      const records = [];
      const provider = { getLogger: () => ({ emit: (r) => records.push(r), enabled: () => true }) };
      const logger = winston.createLogger({ transports: [new OtelTransport({ loggerProvider: provider })] });
      function handler() { logger.info('hi'); }
      handler();
      process.stdout.write(JSON.stringify(records[0].attributes));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
      env: { ...process.env, OTEL_WINSTON_CODE_ATTRIBUTES: 'true' },
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).to.include({
      'code.function.name': 'handler',
      'code.line.number': 7,
    });
  });
});
