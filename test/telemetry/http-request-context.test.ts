import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestContext, OtelWinstonError, startTelemetry } from '../../src/index.js';
import {
  patchServerRequestContext,
  requestIdOf,
} from '../../src/telemetry/http-request-context.js';
import { readBooleanEnv, readListEnv, readMillisEnv, readSpecBooleanEnv } from '../../src/env.js';
import { useDiagCapture } from '../helpers/diag.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('telemetry: request id, request context of HTTP servers, environment', () => {
  const diag = useDiagCapture();

  const ids: Array<[string, string | string[] | undefined, boolean]> = [
    ['a short safe id', 'req-1.2:3_x', true],
    ['128 characters', 'a'.repeat(128), true],
    ['129 characters', 'a'.repeat(129), false],
    ['CRLF (header injection)', 'abc\r\nSet-Cookie: x', false],
    ['a space', 'a b', false],
    ['empty', '', false],
    ['none', undefined, false],
    // Node joins repeated headers with ", ": that is not a safe id.
    ['repeated headers, as Node joins them', 'first-id, second', false],
  ];
  for (const [name, header, kept] of ids) {
    it(`X-Request-ID ${name}: ${kept ? 'kept' : 'replaced by a new UUID'}`, () => {
      const request = { headers: { 'x-request-id': header } } as unknown as http.IncomingMessage;
      const id = requestIdOf(request);
      if (kept) expect(id).to.equal(Array.isArray(header) ? header[0] : header);
      else expect(id).to.match(UUID);
    });
  }

  it('gives one request the same new id however often it is asked (the preload and a middleware agree)', () => {
    const request = { headers: { 'x-request-id': 'bad id' } } as unknown as http.IncomingMessage;
    const id = requestIdOf(request);
    expect(id).to.match(UUID);
    expect(requestIdOf(request)).to.equal(id);
    expect(requestIdOf({ headers: {} } as unknown as http.IncomingMessage)).not.to.equal(id);
  });

  it("keeps the request context in the body's events, which arrive later from the socket", async () => {
    const undo = patchServerRequestContext([http.Server.prototype] as never);
    const server = http.createServer((req, res) => {
      const seen: unknown[] = [];
      req.on('data', () => seen.push(getRequestContext()?.requestId));
      req.on('end', () => {
        seen.push(getRequestContext()?.requestId);
        res.end(JSON.stringify(seen));
      });
    });
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const seen = await new Promise<unknown[]>((resolve, reject) => {
        const req = http.request(
          { port, host: '127.0.0.1', method: 'POST', headers: { 'x-request-id': 'slow-body' } },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += String(chunk)));
            res.on('end', () => resolve(JSON.parse(text) as unknown[]));
          },
        );
        req.on('error', reject);
        req.write('first chunk');
        setTimeout(() => req.end('second chunk'), 50);
      });
      expect(seen.length).to.be.greaterThan(1);
      expect(seen).to.deep.equal(seen.map(() => 'slow-body'));
    } finally {
      undo();
      server.close();
    }
  });

  it('runs each request of a patched server in its own request context', async () => {
    const undo = patchServerRequestContext([http.Server.prototype] as never);
    const server = http.createServer((req, res) => {
      setTimeout(() => res.end(JSON.stringify(getRequestContext())), 5);
    });
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const [a, b] = await Promise.all(
        ['/a?x=1', '/b'].map(async (path, i) => {
          const res = await fetch(`http://127.0.0.1:${port}${path}`, {
            headers: { 'x-request-id': `id-${i}` },
          });
          return (await res.json()) as Record<string, unknown>;
        }),
      );
      expect(a).to.include({
        requestId: 'id-0',
        method: 'GET',
        path: '/a',
        clientAddress: '127.0.0.1',
      });
      expect(b).to.include({ requestId: 'id-1', path: '/b' });
    } finally {
      undo();
      server.close();
    }
    expect(http.Server.prototype.emit).to.equal(Object.getPrototypeOf(http.Server.prototype).emit);
  });

  it('reads switches leniently: a bad value warns and keeps the default', () => {
    expect(readBooleanEnv({ X: 'on' }, 'X', false)).to.equal(true);
    expect(readBooleanEnv({ X: 'No' }, 'X', true)).to.equal(false);
    expect(readBooleanEnv({ X: 'maybe' }, 'X', true)).to.equal(true);
    expect(diag.warnings.join('\n')).to.match(
      /OTW004.*Expected X to be true or false, got "maybe"/,
    );
    expect(readMillisEnv({ T: '-5' }, 'T', 5000)).to.equal(5000);
    expect(readMillisEnv({ T: '250' }, 'T', 5000)).to.equal(250);
    // Each variable gets its own report, even within the rate limit of the code.
    expect(diag.warnings.join('\n')).to.match(
      /OTW004.*Expected T to be a number of milliseconds from 1 to 2147483647, got "-5"/,
    );
    // Node would fire a longer timer at once, which would make every flush "time out".
    expect(readMillisEnv({ U: '3000000000' }, 'U', 5000)).to.equal(5000);
    expect(readListEnv({ L: ' http, Express ,,' }, 'L')).to.deep.equal(['http', 'express']);
  });

  it("reads the specification's booleans (OTEL_SDK_DISABLED) as it says: only true is true", () => {
    expect(readSpecBooleanEnv({ D: ' TRUE ' }, 'D')).to.equal(true);
    expect(readSpecBooleanEnv({ D: 'false' }, 'D')).to.equal(false);
    expect(readSpecBooleanEnv({ D: '' }, 'D')).to.equal(false);
    expect(readSpecBooleanEnv({}, 'D')).to.equal(false);
    expect(diag.warnings).to.deep.equal([]);
    for (const lenient of ['1', 'yes', 'on']) {
      expect(readSpecBooleanEnv({ [`D_${lenient}`]: lenient }, `D_${lenient}`)).to.equal(false);
    }
    expect(diag.warnings.join('\n')).to.match(/OTW004.*Expected D_1 to be true or false, got "1"/);
  });

  const badOptions: Array<[string, unknown, RegExp]> = [
    ['options', 'x', /Expected `options` to be an object/],
    ['autoTransport', { autoTransport: 'yes' }, /Expected `autoTransport` to be a boolean/],
    ['serviceName', { serviceName: '' }, /Expected `serviceName` to be a non-empty string/],
    [
      'shutdownTimeoutMillis',
      { shutdownTimeoutMillis: 0 },
      /Expected `shutdownTimeoutMillis` to be a number of milliseconds from 1 to 2147483647/,
    ],
    ['instrumentations', { instrumentations: {} }, /Expected `instrumentations` to be an array/],
  ];
  for (const [name, options, message] of badOptions) {
    it(`startTelemetry rejects a bad ${name} with a coded error, before starting anything`, () => {
      expect(() => startTelemetry(options as never))
        .to.throw(OtelWinstonError, message)
        .with.property('code', 'OTW_ERR_INVALID_OPTION');
    });
  }
});
