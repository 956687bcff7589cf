import { expect } from 'chai';
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import winston from 'winston';
import {
  getRequestContext,
  OtelWinstonError,
  runWithRequestContext,
  setRequestContext,
} from '../../src/index.js';
import { requestContextAttributes } from '../../src/context/request-attributes.js';
import { createLogCapture } from '../../src/testing/index.js';
import { useDiagCapture } from '../helpers/diag.js';

describe('request context', () => {
  const diag = useDiagCapture();

  it('is undefined outside a request', () => {
    expect(getRequestContext()).to.equal(undefined);
  });

  it('is visible inside, across await and timers, and gone after', async () => {
    const seen: unknown[] = [];
    await runWithRequestContext({ requestId: 'r1', userId: 'u1' }, async () => {
      seen.push(getRequestContext()?.requestId);
      await sleep(2);
      seen.push(getRequestContext()?.requestId);
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          seen.push(getRequestContext()?.requestId);
          resolve();
        }, 1),
      );
      await new Promise<void>((resolve) =>
        setImmediate(() => resolve(void seen.push(getRequestContext()?.userId))),
      );
    });
    expect(seen).to.deep.equal(['r1', 'r1', 'r1', 'u1']);
    expect(getRequestContext()).to.equal(undefined);
  });

  it('follows event listeners registered inside the request', async () => {
    const emitter = new EventEmitter();
    const seen: unknown[] = [];
    runWithRequestContext({ requestId: 'listener' }, () => {
      emitter.on('tick', () => seen.push(getRequestContext()?.requestId));
    });
    const done = once(emitter, 'tick');
    runWithRequestContext({ requestId: 'emitter' }, () => emitter.emit('tick'));
    await done;
    // A plain emitter calls listeners synchronously in the emitter's context.
    expect(seen).to.deep.equal(['emitter']);

    const bound = new EventEmitter({ captureRejections: false });
    const seenBound: unknown[] = [];
    runWithRequestContext({ requestId: 'bound' }, () => {
      bound.on(
        'tick',
        AsyncResource.bind(() => seenBound.push(getRequestContext()?.requestId)),
      );
    });
    runWithRequestContext({ requestId: 'other' }, () => bound.emit('tick'));
    expect(seenBound).to.deep.equal(['bound']);
  });

  it('is snapshotted: changing the object passed in does not change the context', () => {
    const ctx = { requestId: 'before' };
    runWithRequestContext(ctx, () => {
      ctx.requestId = 'after';
      expect(getRequestContext()?.requestId).to.equal('before');
      expect(Object.isFrozen(getRequestContext())).to.equal(true);
    });
  });

  it('setRequestContext merges into the current request, attributes key by key', async () => {
    await runWithRequestContext({ requestId: 'm', attributes: { tenant: 't1' } }, async () => {
      await sleep(1);
      expect(setRequestContext({ userId: 'alice', attributes: { plan: 'pro' } })).to.equal(true);
      expect(getRequestContext()).to.deep.equal({
        requestId: 'm',
        userId: 'alice',
        attributes: { tenant: 't1', plan: 'pro' },
      });
    });
  });

  it('setRequestContext in one async branch is seen by the rest of the same request', async () => {
    await runWithRequestContext({ requestId: 'branches' }, async () => {
      await Promise.all([
        (async () => {
          await sleep(1);
          setRequestContext({ userId: 'bob' });
        })(),
      ]);
      expect(getRequestContext()?.userId).to.equal('bob');
    });
  });

  it('setRequestContext outside a request warns through diag and returns false', () => {
    expect(setRequestContext({ userId: 'x' })).to.equal(false);
    expect(diag.warnings.join()).to.match(/OTW005/);
  });

  it('a bad context warns and runs with an empty one; a bad fn throws a coded error', () => {
    const result = runWithRequestContext(null as never, () => getRequestContext());
    expect(result).to.deep.equal({});
    expect(diag.warnings.join()).to.match(/OTW008/);
    expect(() => runWithRequestContext({}, 'nope' as never)).to.throw(
      OtelWinstonError,
      /Expected `fn` to be a function/,
    );
  });

  it('maps to semantic-convention attributes; named fields win over free-form ones', () => {
    expect(
      requestContextAttributes({
        requestId: 'r',
        userId: 'u',
        route: '/users/:id',
        method: 'GET',
        path: '/users/7',
        clientAddress: '127.0.0.1',
        attributes: { 'user.id': 'spoofed', tenant: 'acme' },
      }),
    ).to.deep.equal({
      tenant: 'acme',
      'http.request.id': 'r',
      'user.id': 'u',
      'http.route': '/users/:id',
      'http.request.method': 'GET',
      'url.path': '/users/7',
      'client.address': '127.0.0.1',
    });
  });

  it('is on every record emitted inside; call metadata wins over it', () => {
    const capture = createLogCapture();
    const logger = winston.createLogger({ transports: [capture.transport()] });
    runWithRequestContext({ requestId: 'r9', route: '/pay' }, () => {
      logger.info('paying');
      logger.info('override', { 'http.route': '/explicit' });
    });
    logger.info('outside');
    const [a, b, c] = capture.records;
    expect(a!.attributes).to.deep.equal({ 'http.request.id': 'r9', 'http.route': '/pay' });
    expect(b!.attributes['http.route']).to.equal('/explicit');
    expect(c!.attributes).to.deep.equal({});
  });

  it('can be turned off per transport', () => {
    const capture = createLogCapture();
    const logger = winston.createLogger({
      transports: [capture.transport({ includeRequestContext: false })],
    });
    runWithRequestContext({ requestId: 'hidden' }, () => logger.info('x'));
    expect(capture.records[0]!.attributes).to.deep.equal({});
  });

  it('stays isolated across 1,000 interleaved concurrent requests', async () => {
    const capture = createLogCapture();
    const logger = winston.createLogger({ transports: [capture.transport()] });
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    const requests = Array.from({ length: 1000 }, (_, i) =>
      runWithRequestContext({ requestId: `req-${i}`, userId: `user-${i % 37}` }, async () => {
        logger.info('start', { i });
        await sleep(i % 7);
        setRequestContext({ route: `/r/${i}` });
        await new Promise((resolve) => setImmediate(resolve));
        logger.info('middle', { i });
        await Promise.resolve();
        await new Promise<void>((resolve) => setTimeout(resolve, (1000 - i) % 5));
        logger.info('end', { i });
      }),
    );
    await Promise.all(requests);
    expect(capture.records).to.have.length(3000);
    for (const record of capture.records) {
      const i = record.attributes.i as number;
      expect(record.attributes['http.request.id']).to.equal(`req-${i}`);
      expect(record.attributes['user.id']).to.equal(`user-${i % 37}`);
      if (record.body === 'start') expect(record.attributes).to.not.have.property('http.route');
      else expect(record.attributes['http.route']).to.equal(`/r/${i}`);
    }
  });
});
