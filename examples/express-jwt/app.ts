// An Express app with JWT identity: POST /login issues a demo token, GET /hello
// requires a verified user, GET /fail throws, GET /weather makes an outgoing HTTP
// call to GET /internal/forecast. Every log line names the request and the user;
// the telemetry needs no code beyond the middleware:
//
//   npm run example:express
//   # which is: node --import otel-winston/register --import tsx examples/express-jwt/app.ts
//
//   curl -s -X POST localhost:3000/login -H 'content-type: application/json' -d '{"username":"ada"}'
//   curl -s localhost:3000/hello -H "authorization: Bearer <the token>"
import express, { type ErrorRequestHandler } from 'express';
import { SignJWT } from 'jose';
import type { AddressInfo } from 'node:net';
import winston from 'winston';
import { getRequestContext } from 'otel-winston';
import { requestContextMiddleware } from 'otel-winston/express';

// A demo secret: use a real one (at least 32 bytes) from your secret store.
const SECRET = process.env.JWT_SECRET ?? 'demo-secret-change-me-it-is-32-bytes-long';
const ISSUER = 'express-jwt-example';

const logger = winston.createLogger({
  level: 'info',
  format: winston.format.json(),
  transports: [new winston.transports.Console()],
});

const app = express();
// First, before body parsing and routes: request id, verified user, route, access records.
app.use(
  requestContextMiddleware({
    jwt: {
      algorithms: ['HS256'],
      secret: SECRET,
      issuer: ISSUER,
      claimAttributes: { roles: 'user.roles' },
    },
    // Access and identity records go through the app's logger: its console lines and OpenTelemetry.
    logger,
  }),
);
app.use(express.json());

// Issues a demo token for any user name: stands in for a real identity provider.
app.post('/login', async (req, res) => {
  const username: unknown = req.body?.username;
  if (typeof username !== 'string' || !/^[\w.-]{1,64}$/.test(username)) {
    logger.warn('login refused: no usable user name');
    res.status(400).json({ error: 'username required' });
    return;
  }
  const token = await new SignJWT({ roles: username === 'admin' ? ['admin'] : ['user'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(username)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
  logger.info('token issued', { user: username });
  res.json({ token });
});

// Authorization stays the app's decision: here, a verified user is required.
app.get('/hello', (_req, res) => {
  const identity = getRequestContext()?.identity;
  if (identity?.verified !== true) {
    logger.info('hello refused', { reason: identity?.reason ?? 'no verification' });
    res.status(401).json({ error: 'log in first' });
    return;
  }
  logger.info('Hello endpoint hit');
  res.json({ message: `hello, ${identity.userId}` });
});

// A route that fails: the error handler logs it with its stack, and the access record is an ERROR.
app.get('/fail', () => {
  throw Object.assign(new Error('the inventory service is down'), { code: 'E_INVENTORY' });
});

// A route with an outgoing HTTP call: its trace has a client span and the downstream server span.
app.get('/weather', async (_req, res) => {
  logger.info('asking the forecast service');
  const upstream = await fetch(`http://127.0.0.1:${port()}/internal/forecast`);
  const forecast: unknown = await upstream.json();
  logger.info('forecast received', { status: upstream.status });
  res.json(forecast);
});

app.get('/internal/forecast', (_req, res) => {
  logger.info('computing a forecast');
  res.json({ sky: 'clear', celsius: 21 });
});

const onError: ErrorRequestHandler = (error: Error, req, res, _next) => {
  // The full URL, query string included: a token or an e-mail address passed in
  // the query lands in this line, and the collector's redaction masks it
  // (otel-collector.yaml). The record keeps the error's type, message and stack.
  logger.error(`request failed: ${req.method} ${req.originalUrl}`, error);
  res.status(500).json({ error: 'internal error', requestId: getRequestContext()?.requestId });
};
app.use(onError);

// Loopback unless told otherwise (the compose file sets HOST=0.0.0.0 inside its container).
const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  process.stdout.write(`listening ${port()}\n`);
});
const port = (): number => (server.address() as AddressInfo).port;
