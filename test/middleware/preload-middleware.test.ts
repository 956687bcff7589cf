import { expect } from 'chai';
import { SignJWT } from 'jose';
import { fileURLToPath } from 'node:url';
import type { DecodedLogRecord, DecodedSpan } from '../../src/testing/index.js';
import { startPreloadedApp, type PreloadedApp } from '../helpers/preload-app.js';
import { useOtlpReceiver } from '../helpers/receiver.js';
import { waitUntil } from '../helpers/wait.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/express-jwt/app.ts', import.meta.url));
const SECRET = 'a-fixture-secret-of-at-least-32-bytes';
const SERVER = 2; // SpanKind.SERVER + 1 on the wire

const serverSpan = (spans: readonly DecodedSpan[], requestId: string) =>
  spans.find((s) => s.kind === SERVER && s.attributes['http.request.id'] === requestId);

describe('middleware under the preload: the server span and the records agree (real child processes)', function () {
  this.timeout(30_000);
  const receiver = useOtlpReceiver();
  let app: PreloadedApp | undefined;
  afterEach(async () => {
    app?.child.kill('SIGTERM');
    await app?.exited();
    app = undefined;
  });

  it('examples/express-jwt: user, route and request id on the server span, the handler record and the access record', async () => {
    app = await startPreloadedApp(
      ['--import', 'otel-winston/register', '--import', 'tsx'],
      EXAMPLE,
      receiver.url,
      { OTEL_SERVICE_NAME: 'express-jwt', PORT: '0', OTEL_METRICS_EXPORTER: 'none' },
    );
    const base = `http://127.0.0.1:${app.port}`;
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'e2e-login' },
      body: JSON.stringify({ username: 'grace' }),
    });
    const { token } = (await login.json()) as { token: string };
    const hello = await fetch(`${base}/hello`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'e2e-hello' },
    });
    expect(hello.headers.get('x-request-id')).to.equal('e2e-hello');
    expect(await hello.json()).to.deep.equal({ message: 'hello, grace' });
    const refused = await fetch(`${base}/hello`, {
      headers: { authorization: `Bearer ${token.slice(0, -6)}AAAAAA`, 'x-request-id': 'e2e-bad' },
    });
    expect(refused.status).to.equal(401);
    await refused.text();

    const span = await waitUntil('the /hello server span', () =>
      serverSpan(receiver.spans, 'e2e-hello'),
    );
    expect(span.name).to.equal('GET /hello');
    expect(span.attributes).to.include({
      'user.id': 'grace',
      'http.route': '/hello',
      'http.request.id': 'e2e-hello',
    });
    expect(span.attributes['user.roles']).to.deep.equal(['user']);
    const records = await waitUntil('the /hello records', () => {
      const found = receiver.logs.filter((r) => r.traceId === span.traceId);
      return found.length >= 2 ? found : undefined;
    });
    const handler = records.find((r) => r.body === 'Hello endpoint hit')!;
    const access = records.find((r) => String(r.body).startsWith('GET /hello 200'))!;
    for (const record of [handler, access] as DecodedLogRecord[]) {
      expect(record.attributes).to.include({
        'user.id': 'grace',
        'http.route': '/hello',
        'http.request.id': 'e2e-hello',
      });
    }
    // The access record is the server span's own; the handler's is under Express's handler span.
    expect(access.spanId).to.equal(span.spanId);
    expect(access.attributes['http.response.status_code']).to.equal(200);

    const bad = await waitUntil('the refused server span', () =>
      serverSpan(receiver.spans, 'e2e-bad'),
    );
    expect(bad.attributes['user.id']).to.equal(undefined);
    const warning = await waitUntil('the identity WARN', () =>
      receiver.logs.find(
        (r) =>
          r.traceId === bad.traceId &&
          r.severityText === 'warn' &&
          r.attributes['otel_winston.identity.failure.reason'] !== undefined,
      ),
    );
    expect(warning.attributes['otel_winston.identity.failure.reason']).to.equal(
      'signature_invalid',
    );
    const wire = JSON.stringify(receiver.logs.map((r) => [r.body, r.attributes]));
    expect(wire).not.to.include(token.split('.')[1]!);
  });

  it('Fastify with the plugin: the same, after the body was parsed', async () => {
    app = await startPreloadedApp(
      ['--import', 'otel-winston/register'],
      'fastify-jwt.mjs',
      receiver.url,
      {
        JWT_SECRET: SECRET,
        OTEL_METRICS_EXPORTER: 'none',
      },
    );
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('linus')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    const res = await fetch(`http://127.0.0.1:${app.port}/items/7`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': 'fastify-e2e',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'x', price: 3 }),
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('x-request-id')).to.equal('fastify-e2e');
    await res.text();
    const span = await waitUntil('the server span', () =>
      serverSpan(receiver.spans, 'fastify-e2e'),
    );
    expect(span.attributes).to.include({ 'user.id': 'linus', 'http.route': '/items/:id' });
    const record = await waitUntil('the handler record', () =>
      receiver.logs.find((r) => r.body === 'item updated'),
    );
    expect(record.traceId).to.equal(span.traceId);
    expect(record.attributes).to.include({
      'user.id': 'linus',
      'http.route': '/items/:id',
      'http.request.id': 'fastify-e2e',
    });
    const access = await waitUntil('the access record', () =>
      receiver.logs.find((r) => String(r.body).startsWith('POST /items/:id 200')),
    );
    expect(access.spanId).to.equal(span.spanId);
  });
});
