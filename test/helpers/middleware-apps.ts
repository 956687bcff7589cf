import { logs } from '@opentelemetry/api';
import express from 'express';
import Fastify from 'fastify';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import winston from 'winston';
import { getRequestContext, setRequestContext } from '../../src/index.js';
import { requestContextMiddleware } from '../../src/middleware/express.js';
import { requestContextPlugin } from '../../src/middleware/fastify.js';
import { withRequestContext } from '../../src/middleware/http.js';
import type { RequestContextOptions } from '../../src/middleware/options.js';
import {
  createLogCapture,
  type CapturedLogRecord,
  type LogCapture,
} from '../../src/testing/index.js';
import { waitUntil } from './wait.js';

export const FRAMEWORKS = ['express', 'fastify', 'http'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** What every test app's handlers answer: the request context they saw, before and after an await. */
export interface Seen {
  readonly before: Record<string, unknown> | undefined;
  readonly after: Record<string, unknown> | undefined;
  readonly body?: unknown;
}

export interface AppUnderTest {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The same small app on each framework, with the request-context middleware:
 * - `GET /users/:id` logs, awaits a little (`?wait=ms`), logs again, answers {@link Seen};
 * - `POST /echo` parses a JSON body first, then does the same;
 * - `GET /boom` answers 500, `GET /teapot` 418, anything else 404.
 */
export async function startApp(
  framework: Framework,
  logger: winston.Logger,
  options?: RequestContextOptions,
): Promise<AppUnderTest> {
  const handle = async (wait: number, body?: unknown): Promise<Seen> => {
    const before = getRequestContext();
    logger.info('handling', { step: 'before' });
    await sleep(wait);
    const after = getRequestContext();
    logger.info('handled', { step: 'after' });
    return { before: { ...before }, after: { ...after }, ...(body !== undefined ? { body } : {}) };
  };
  const waitOf = (url: string | undefined): number =>
    Number(new URL(url ?? '/', 'http://x').searchParams.get('wait') ?? 0);

  if (framework === 'express') {
    const app = express();
    app.use(requestContextMiddleware(options));
    app.use(express.json());
    app.get('/users/:id', async (req, res) => void res.json(await handle(waitOf(req.url))));
    app.post('/echo', async (req, res) => void res.json(await handle(0, req.body)));
    app.get('/boom', (_req, res) => void res.status(500).send('boom'));
    app.get('/teapot', (_req, res) => void res.status(418).send('short and stout'));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return serverHandle(server);
  }
  if (framework === 'fastify') {
    const app = Fastify();
    await app.register(requestContextPlugin, options ?? {});
    app.get('/users/:id', async (req) => handle(waitOf(req.url)));
    app.post('/echo', async (req) => handle(0, req.body));
    app.get('/boom', async (_req, reply) => reply.code(500).send('boom'));
    app.get('/teapot', async (_req, reply) => reply.code(418).send('short and stout'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  }
  const server = createServer(
    withRequestContext(async (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const reply = (status: number, payload: unknown): void => {
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
        res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      };
      if (req.method === 'GET' && /^\/users\/[^/]+$/.test(path)) {
        setRequestContext({ route: '/users/:id' });
        return reply(200, await handle(waitOf(req.url)));
      }
      if (req.method === 'POST' && path === '/echo') {
        setRequestContext({ route: '/echo' });
        let text = '';
        for await (const chunk of req) text += String(chunk);
        return reply(200, await handle(0, JSON.parse(text)));
      }
      if (path === '/boom' || path === '/teapot') setRequestContext({ route: path });
      if (path === '/boom') return reply(500, 'boom');
      if (path === '/teapot') return reply(418, 'short and stout');
      return reply(404, 'not found');
    }, options),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return serverHandle(server);
}

function serverHandle(server: import('node:http').Server): AppUnderTest {
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A log capture installed as the global LoggerProvider (where the middleware's
 * own records go) and a winston logger whose records go to it, for the calling
 * suite.
 */
export function useGlobalCapture(): { capture: LogCapture; logger: winston.Logger } {
  const capture = createLogCapture();
  const logger = winston.createLogger({ level: 'info', transports: [capture.transport()] });
  before(() => {
    logs.disable();
    logs.setGlobalLoggerProvider(capture.loggerProvider);
  });
  beforeEach(() => capture.reset());
  after(async () => {
    logs.disable();
    await capture.shutdown();
  });
  return { capture, logger };
}

/** Waits until `predicate` holds for the captured records (access records come after the response). */
export async function recordsWhere(
  capture: LogCapture,
  predicate: (records: readonly CapturedLogRecord[]) => boolean,
  timeoutMillis = 2000,
): Promise<readonly CapturedLogRecord[]> {
  return waitUntil(
    () =>
      `records that match; have:\n${capture.records.map((r) => `  ${String(r.body)} ${JSON.stringify(r.attributes)}`).join('\n')}`,
    () => predicate(capture.records) && capture.records,
    timeoutMillis,
    5,
  );
}
