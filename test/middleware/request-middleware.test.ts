import { trace } from '@opentelemetry/api';
import { expect } from 'chai';
import Fastify from 'fastify';
import express from 'express';
import { SignJWT } from 'jose';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import winston from 'winston';
import {
  ACCESS_EVENT,
  IDENTITY_EVENT,
  getRequestContext,
  OtelWinstonError,
  runWithRequestContext,
  setRequestContext,
  type RequestContextOptions,
} from '../../src/index.js';
import { requestContextMiddleware } from '../../src/middleware/express.js';
import { requestContextPlugin } from '../../src/middleware/fastify.js';
import { withRequestContext } from '../../src/middleware/http.js';
import { createLogCapture, type CapturedLogRecord } from '../../src/testing/index.js';
import { useDiagCapture } from '../helpers/diag.js';
import {
  FRAMEWORKS,
  recordsWhere,
  startApp,
  useGlobalCapture,
  type AppUnderTest,
  type Seen,
} from '../helpers/middleware-apps.js';
import { testTracer } from '../helpers/tracing.js';
import { waitUntil } from '../helpers/wait.js';

const SECRET = 'a-demo-secret-of-at-least-32-bytes!!';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const hs256 = (sub: string): Promise<string> =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));

/** Sends bytes as they are, for headers `fetch` refuses to send; resolves with the raw response head. */
async function rawRequest(url: string, head: string): Promise<string> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.setTimeout(3000, () => socket.destroy());
  // Not end(): Node's server drops a request whose client half-closes before the answer.
  socket.write(`GET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${head}\r\n`);
  let text = '';
  for await (const chunk of socket) text += String(chunk);
  return text.split('\r\n\r\n')[0]!;
}

/** Runs `fn` with `app` listening on a loopback port, and closes it after. */
async function withServer(
  app: (req: IncomingMessage, res: ServerResponse) => void,
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** A plain copy of the request context, for JSON answers. */
const getRequestContextCopy = (): Record<string, unknown> => ({ ...getRequestContext() });

const accessRecords = (records: readonly CapturedLogRecord[]) =>
  records.filter((r) => r.eventName === ACCESS_EVENT);

describe('middleware: request id, access records, concurrency', () => {
  const diag = useDiagCapture();
  const { capture, logger } = useGlobalCapture();

  for (const framework of FRAMEWORKS) {
    describe(framework, () => {
      let app: AppUnderTest;
      before(async () => {
        app = await startApp(framework, logger, {
          jwt: { algorithms: ['HS256'], secret: SECRET },
          warnOnMissingToken: false,
        });
      });
      after(() => app.close());

      const idFor = async (value: string | undefined): Promise<[string | null, Seen]> => {
        const res = await fetch(`${app.url}/users/1`, {
          headers: value !== undefined ? { 'x-request-id': value } : {},
        });
        return [res.headers.get('x-request-id'), (await res.json()) as Seen];
      };

      it('keeps a short, safe X-Request-ID, echoes it and puts it on every record', async () => {
        const id = 'req-AZ_az.09:x';
        const [echoed, seen] = await idFor(id);
        expect(echoed).to.equal(id);
        expect(seen.before?.requestId).to.equal(id);
        const records = await recordsWhere(capture, (rs) => accessRecords(rs).length === 1);
        expect(records.map((r) => r.attributes['http.request.id'])).to.deep.equal([id, id, id]);
        // The handler's records carry the route too, without the preload: Express and Fastify
        // as soon as they match it, node:http from the app's setRequestContext().
        expect(records.map((r) => r.attributes['http.route'])).to.deep.equal([
          '/users/:id',
          '/users/:id',
          '/users/:id',
        ]);
      });

      it('takes 128 characters, and replaces 129 with a new UUID', async () => {
        expect((await idFor('a'.repeat(128)))[0]).to.equal('a'.repeat(128));
        const [echoed, seen] = await idFor('a'.repeat(129));
        expect(echoed).to.match(UUID);
        expect(seen.before?.requestId).to.equal(echoed);
      });

      it('replaces unsafe values (encoded CRLF, spaces, quotes, a repeated header) with a new UUID', async () => {
        for (const value of ['abc%0D%0ASet-Cookie:%20x=1', 'a b', 'a"<script>', 'ok, ok']) {
          const [echoed, seen] = await idFor(value);
          expect(echoed, value).to.match(UUID);
          expect(seen.before?.requestId).to.equal(echoed);
        }
        // Sent twice: Node joins the values with ", ", which is not a safe id.
        const head = await rawRequest(app.url, 'X-Request-ID: one\r\nX-Request-ID: two\r\n');
        expect(head).to.match(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
      });

      it('never echoes a raw CR or LF: the request is refused or the id replaced, and no header is injected', async () => {
        for (const value of ['abc\rSet-Cookie: injected=1', 'abc\nSet-Cookie: injected=1']) {
          const head = await rawRequest(app.url, `X-Request-ID: ${value}\r\n`);
          expect(head).to.match(/^HTTP\/1\.1 (200|400) /);
          expect(head.toLowerCase()).not.to.include('injected');
          if (head.startsWith('HTTP/1.1 200')) {
            expect(head).to.match(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
          }
        }
      });

      it('one access record per request: method, route, status, duration, size; the level follows the status', async () => {
        const expected: Array<[string, number, string, string | undefined]> = [
          ['/users/42?wait=20', 200, 'info', '/users/:id'],
          ['/teapot', 418, 'warn', '/teapot'],
          ['/boom', 500, 'error', '/boom'],
          ['/no/such/path', 404, 'warn', undefined],
        ];
        for (const [path, status, level, route] of expected) {
          capture.reset();
          const res = await fetch(`${app.url}${path}`, {
            headers: { authorization: `Bearer ${await hs256('ann')}`, 'x-request-id': 'r-1' },
          });
          const size = (await res.arrayBuffer()).byteLength;
          expect(res.status).to.equal(status);
          await recordsWhere(capture, (rs) => accessRecords(rs).length === 1);
          await new Promise((resolve) => setTimeout(resolve, 20));
          const all = accessRecords(capture.records);
          expect(all, 'exactly one access record').to.have.length(1);
          const access = all[0];
          const a = access!.attributes;
          expect(access!.severityText, path).to.equal(level);
          expect(a['http.response.status_code']).to.equal(status);
          expect(a['http.response.body.size']).to.equal(size);
          expect(a['http.request.method']).to.equal('GET');
          expect(a['http.route']).to.equal(route);
          expect(a['url.path']).to.equal(path.split('?')[0]);
          expect(a['user.id']).to.equal('ann');
          expect(a['http.request.id']).to.equal('r-1');
          const seconds = a['otel_winston.request.duration'] as number;
          expect(seconds).to.be.within(path.includes('wait=20') ? 0.019 : 0, 5);
          expect(access!.body).to.equal(
            `GET ${route ?? path.split('?')[0]} ${status} ${(seconds * 1000).toFixed(1)} ms`,
          );
        }
      });

      it('a request the client abandons gets a WARN access record saying so', async () => {
        const controller = new AbortController();
        const pending = fetch(`${app.url}/users/1?wait=1000`, { signal: controller.signal });
        const gone = pending.then(
          () => expect.fail('the request should have been aborted'),
          () => undefined,
        );
        // The client leaves once the handler has started, however long the request took to arrive.
        await recordsWhere(capture, (rs) => rs.some((r) => r.body === 'handling'));
        controller.abort();
        await gone;
        // The handler goes on after the client has gone; let it finish inside this test.
        await recordsWhere(capture, (rs) => rs.some((r) => r.body === 'handled'));
        const [access] = accessRecords(
          await recordsWhere(capture, (rs) => accessRecords(rs).length === 1),
        );
        expect(access!.severityText).to.equal('warn');
        expect(String(access!.body)).to.match(/ \(abandoned by the client\)$/);
        expect(access!.attributes['http.response.status_code']).to.equal(undefined);
      });

      it('skip: no access record for the paths or the predicate named, and everything else kept for them', async () => {
        for (const skip of [
          ['/users/2', '/boom/*'],
          (req: import('node:http').IncomingMessage) => req.headers['x-probe'] === 'yes',
        ]) {
          const skipping = await startApp(framework, logger, { skip });
          try {
            capture.reset();
            const probe = typeof skip === 'function' ? { 'x-probe': 'yes' } : undefined;
            const quiet = await fetch(`${skipping.url}/users/2`, { headers: probe });
            const seen = (await quiet.json()) as Seen;
            if (typeof skip !== 'function') await (await fetch(`${skipping.url}/boom`)).text();
            await (await fetch(`${skipping.url}/users/1`)).text();
            const records = await recordsWhere(capture, (rs) =>
              accessRecords(rs).some((r) => r.attributes['url.path'] === '/users/1'),
            );
            await new Promise((resolve) => setImmediate(resolve));
            expect(
              accessRecords(capture.records).map((r) => r.attributes['url.path']),
            ).to.deep.equal(['/users/1']);
            // The skipped request still has its context on its handler's records.
            const handling = records.filter(
              (r) =>
                r.body === 'handling' && r.attributes['http.request.id'] === seen.before?.requestId,
            );
            expect(handling, 'the skipped request keeps its request id').to.have.length(1);
          } finally {
            await skipping.close();
          }
        }
      });

      it('keeps the request context through a parsed JSON body', async () => {
        const res = await fetch(`${app.url}/echo`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${await hs256('body-user')}`,
            'content-type': 'application/json',
            'x-request-id': 'with-body',
          },
          body: JSON.stringify({ items: Array.from({ length: 5000 }, (_, i) => i) }),
        });
        const seen = (await res.json()) as Seen;
        expect((seen.body as { items: number[] }).items).to.have.length(5000);
        expect(seen.before).to.include({ userId: 'body-user', requestId: 'with-body' });
        const records = await recordsWhere(capture, (rs) => accessRecords(rs).length === 1);
        for (const r of records) {
          expect(r.attributes).to.include({
            'user.id': 'body-user',
            'http.request.id': 'with-body',
          });
        }
      });

      it('200 concurrent requests from distinct users: every record carries its own request and user', async () => {
        const n = 200;
        const tokens = await Promise.all(Array.from({ length: n }, (_, i) => hs256(`user-${i}`)));
        const responses = await Promise.all(
          tokens.map(async (token, i) => {
            const headers = { authorization: `Bearer ${token}`, 'x-request-id': `req-${i}` };
            const res =
              i % 2 === 0
                ? await fetch(`${app.url}/users/${i}?wait=${(i * 7) % 20}`, { headers })
                : await fetch(`${app.url}/echo`, {
                    method: 'POST',
                    headers: { ...headers, 'content-type': 'application/json' },
                    body: JSON.stringify({ i }),
                  });
            return [res.headers.get('x-request-id'), (await res.json()) as Seen] as const;
          }),
        );
        responses.forEach(([echoed, seen], i) => {
          expect(echoed).to.equal(`req-${i}`);
          expect(seen.before).to.include({ requestId: `req-${i}`, userId: `user-${i}` });
          expect(seen.after).to.include({ requestId: `req-${i}`, userId: `user-${i}` });
        });
        const records = await recordsWhere(capture, (rs) => accessRecords(rs).length === n);
        expect(records).to.have.length(3 * n);
        for (const r of records) {
          const id = r.attributes['http.request.id'] as string;
          expect(r.attributes['user.id'], `${String(r.body)} of ${id}`).to.equal(
            `user-${id.slice(4)}`,
          );
        }
        expect(diag.warnings).to.deep.equal([]);
      });
    });
  }

  describe('options', () => {
    const bad: Array<[string, unknown]> = [
      ['options', 'yes'],
      ['requestIdHeader', 'bad header'],
      ['requestIdHeader', ''],
      ['echoRequestId', 'yes'],
      ['accessLog', 1],
      ['warnOnMissingToken', null],
      ['skip', ['healthz']],
      ['skip', '/healthz'],
      ['logger', {}],
      ['jwt.algorithms', { jwt: { secret: SECRET } }],
      ['jwt.secret', { jwt: { algorithms: ['HS256'], secret: 'short' } }],
      ['jwt.algorithms', { jwt: { algorithms: ['none'], secret: SECRET } }],
    ];
    const optionsOf = (name: string, value: unknown): unknown =>
      name === 'options' || name.startsWith('jwt.') ? value : { [name]: value };

    for (const [name, value] of bad) {
      it(`a bad ${name} (${JSON.stringify(value)}) is a coded error on every framework`, async () => {
        const options = optionsOf(name, value) as RequestContextOptions;
        for (const make of [
          () => requestContextMiddleware(options),
          () => withRequestContext(() => undefined, options),
        ]) {
          expect(make)
            .to.throw(OtelWinstonError, `\`${name}\``)
            .with.property('code', 'OTW_ERR_INVALID_OPTION');
        }
        const app = Fastify();
        const error: unknown = await app
          .register(requestContextPlugin, options)
          .ready()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        await app.close();
        expect(error).to.be.instanceOf(OtelWinstonError);
        expect((error as Error).message).to.include(`\`${name}\``);
      });
    }

    it('requestIdHeader names another header, in and out; echoRequestId: false sends none back', async () => {
      const app = await startApp('express', logger, { requestIdHeader: 'X-Correlation-ID' });
      const quiet = await startApp('fastify', logger, { echoRequestId: false });
      try {
        const res = await fetch(`${app.url}/users/1`, {
          headers: { 'x-correlation-id': 'corr-1' },
        });
        expect(res.headers.get('x-correlation-id')).to.equal('corr-1');
        expect(((await res.json()) as Seen).before?.requestId).to.equal('corr-1');
        const silent = await fetch(`${quiet.url}/users/1`, { headers: { 'x-request-id': 'r-2' } });
        expect(silent.headers.get('x-request-id')).to.equal(null);
        expect(((await silent.json()) as Seen).before?.requestId).to.equal('r-2');
      } finally {
        await app.close();
        await quiet.close();
      }
    });

    it('accessLog: false turns the access records off', async () => {
      for (const framework of FRAMEWORKS) {
        const app = await startApp(framework, logger, { accessLog: false });
        capture.reset();
        await (await fetch(`${app.url}/users/1`)).text();
        await app.close();
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(capture.records.map((r) => r.body)).to.deep.equal(['handling', 'handled']);
      }
    });

    it('logger: the records go through the app’s winston logger, with its context, instead of the logs API', async () => {
      const own = createLogCapture();
      const lines: string[] = [];
      const appLogger = winston.createLogger({
        transports: [
          own.transport(),
          new winston.transports.Stream({
            stream: new (await import('node:stream')).Writable({
              write(chunk, _encoding, callback) {
                lines.push(String(chunk));
                callback();
              },
            }),
            format: winston.format.json(),
          }),
        ],
      });
      const app = await startApp('express', logger, {
        logger: appLogger,
        jwt: { algorithms: ['HS256'], secret: SECRET },
      });
      try {
        await (
          await fetch(`${app.url}/teapot`, {
            headers: { authorization: 'Bearer x.y.z', 'x-request-id': 'via-winston' },
          })
        ).text();
        await recordsWhere(own, (rs) => rs.length === 2);
        const [warning, access] = own.records;
        expect(warning!.eventName).to.equal(IDENTITY_EVENT);
        expect(access!.eventName).to.equal(ACCESS_EVENT);
        expect(warning!.severityText).to.equal('warn');
        expect(warning!.attributes).to.include({
          'otel_winston.identity.failure.reason': 'token_malformed',
          'http.request.id': 'via-winston',
        });
        expect(access!.severityText).to.equal('warn');
        expect(access!.attributes).to.include({
          'http.response.status_code': 418,
          'http.route': '/teapot',
          'http.request.id': 'via-winston',
        });
        expect(lines).to.have.length(2);
        expect(JSON.parse(lines[1]!)).to.include({
          level: 'warn',
          'http.response.status_code': 418,
        });
        // Nothing went through the global provider as well.
        expect(accessRecords(capture.records)).to.have.length(0);
      } finally {
        await app.close();
        await own.shutdown();
      }
    });

    it('logger with syslog levels: warn becomes warning; a logger with none of the levels falls back to the logs API', async () => {
      const own = createLogCapture();
      const syslog = winston.createLogger({
        levels: winston.config.syslog.levels,
        level: 'debug',
        transports: [own.transport()],
      });
      const bare = winston.createLogger({
        levels: { loud: 0 },
        level: 'loud',
        transports: [own.transport()],
      });
      const first = await startApp('http', logger, { logger: syslog });
      const second = await startApp('http', logger, { logger: bare });
      try {
        await (await fetch(`${first.url}/teapot`)).text();
        await recordsWhere(own, (rs) => rs.length === 1);
        expect(own.records[0]!.severityText).to.equal('warning');
        expect(own.records[0]!.eventName).to.equal(ACCESS_EVENT);
        await (await fetch(`${second.url}/users/1`)).text();
        const [access] = accessRecords(
          await recordsWhere(capture, (rs) => accessRecords(rs).length === 1),
        );
        expect(access!.severityText).to.equal('info');
        expect(own.records).to.have.length(1);
      } finally {
        await first.close();
        await second.close();
        await own.shutdown();
      }
    });

    it('a logger that throws: the request is served, the problem goes to diag', async () => {
      const app = await startApp('http', logger, {
        logger: {
          log() {
            throw new Error('logger is broken');
          },
        },
      });
      try {
        const res = await fetch(`${app.url}/users/1`);
        expect(res.status).to.equal(200);
        await res.text();
        await waitUntil('a diag warning', () => diag.warnings.length > 0, 2000, 5);
        expect(diag.warnings.join('\n')).to.match(/OTW007.*logger is broken/);
      } finally {
        await app.close();
      }
    });
  });

  describe('the server span', () => {
    it('gets the request id, the user and the route of the request it serves', async () => {
      testTracer();
      const exporter = new InMemorySpanExporter();
      const tracer = new TracerProvider({
        spanProcessors: [new SimpleSpanProcessor({ exporter })],
      }).getTracer('server');
      const handler = withRequestContext(
        async (req: IncomingMessage, res: ServerResponse) => {
          const { setRequestContext } = await import('../../src/index.js');
          setRequestContext({ route: '/orders/:id' });
          res.end(trace.getActiveSpan() !== undefined ? 'in span' : 'no span');
        },
        { jwt: { algorithms: ['HS256'], secret: SECRET } },
      );
      // The span a server instrumentation would start around the request.
      const server = createServer((req, res) =>
        tracer.startActiveSpan('GET', (span) => {
          res.on('close', () => span.end());
          handler(req, res);
        }),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const res = await fetch(`http://127.0.0.1:${port}/orders/9`, {
          headers: {
            authorization: `Bearer ${await hs256('span-user')}`,
            'x-request-id': 'span-req',
          },
        });
        expect(await res.text()).to.equal('in span');
        await waitUntil('the span', () => exporter.getFinishedSpans().length > 0, 2000, 5);
        expect(exporter.getFinishedSpans()[0]!.attributes).to.include({
          'http.request.id': 'span-req',
          'user.id': 'span-user',
          'http.route': '/orders/:id',
        });
      } finally {
        server.close();
      }
    });
  });

  it('mounted twice for one request (app and sub-app): one scope, one access record, one WARN', async () => {
    const options = { jwt: { algorithms: ['HS256'], secret: SECRET } } as const;
    const inner = express();
    inner.use(requestContextMiddleware(options));
    inner.get('/x', (_req, res) => void res.json(getRequestContextCopy()));
    const app = express();
    app.use(requestContextMiddleware(options));
    app.use('/sub', inner);
    await withServer(app, async (url) => {
      const res = await fetch(`${url}/sub/x`, {
        headers: { authorization: 'Bearer a.b.c', 'x-request-id': 'twice' },
      });
      expect(await res.json()).to.include({ requestId: 'twice' });
      await recordsWhere(capture, (rs) => accessRecords(rs).length === 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(accessRecords(capture.records)).to.have.length(1);
      expect(capture.records.filter((r) => r.eventName === IDENTITY_EVENT)).to.have.length(1);
    });
  });

  it('does not inherit a context the server was started in', async () => {
    const server = runWithRequestContext({ userId: 'startup', attributes: { phase: 'boot' } }, () =>
      createServer(
        withRequestContext((_req, res) => void res.end(JSON.stringify(getRequestContextCopy()))),
      ).listen(0, '127.0.0.1'),
    );
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const seen = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Record<
        string,
        unknown
      >;
      expect(seen).to.include({ path: '/' });
      expect(seen).not.to.have.property('userId');
      expect(seen).not.to.have.property('attributes');
    } finally {
      server.close();
    }
  });

  it('pipelined requests on one connection: a write callback runs in its own request, not the one before', async () => {
    const seen: Array<[string, unknown]> = [];
    const server = createServer(
      withRequestContext((req, res) => {
        const path = req.url ?? '/';
        setRequestContext({ userId: path === '/a' ? 'alice' : 'bob' });
        const answer = (): void => {
          res.write(path, () => seen.push([path, getRequestContextCopy().userId]));
          res.end();
        };
        if (path === '/a') setTimeout(answer, 100);
        else answer();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const socket = connect(port, '127.0.0.1');
      socket.write(
        'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      for await (const chunk of socket) void chunk;
      expect(seen).to.deep.equal([
        ['/a', 'alice'],
        ['/b', 'bob'],
      ]);
    } finally {
      server.close();
    }
  });

  it('an Express router mounted at a path with parameters: the matched base is kept, a route the app names wins', async () => {
    const app = express();
    app.use(requestContextMiddleware());
    const router = express.Router();
    router.get('/items/:id', (_req, res) => void res.send('ok'));
    router.get('/named/:id', (_req, res) => {
      setRequestContext({ route: '/tenants/:tenant/named/:id' });
      res.send('ok');
    });
    app.use('/tenants/:tenant', router);
    await withServer(app, async (url) => {
      await (await fetch(`${url}/tenants/acme/items/3`)).text();
      await (await fetch(`${url}/tenants/acme/named/3`)).text();
      const routes = accessRecords(
        await recordsWhere(capture, (rs) => accessRecords(rs).length === 2),
      ).map((r) => r.attributes['http.route']);
      expect(routes).to.deep.equal(['/tenants/acme/items/:id', '/tenants/:tenant/named/:id']);
    });
  });

  it('works with express.Router mounts: the route is the full template', async () => {
    const app = express();
    app.use(requestContextMiddleware());
    const router = express.Router();
    router.get('/items/:id', (_req, res) => void res.send('ok'));
    app.use('/api/v1', router);
    await withServer(app, async (url) => {
      await (await fetch(`${url}/api/v1/items/3`)).text();
      const [access] = accessRecords(
        await recordsWhere(capture, (rs) => accessRecords(rs).length === 1),
      );
      expect(access!.attributes['http.route']).to.equal('/api/v1/items/:id');
    });
  });
});
