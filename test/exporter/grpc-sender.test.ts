import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { OtelWinstonError } from '../../src/errors.js';
import type { AttemptResult, Sender } from '../../src/exporter/attempt.js';
import { createSender } from '../../src/exporter/create-sender.js';
import { LogPipeline } from '../../src/pipeline/log-pipeline.js';
import { resolvePipelineSettings, type LogPipelineOptions } from '../../src/pipeline/options.js';
import { useDiagCapture } from '../helpers/diag.js';
import { balanced, pipelineLogger, type PipelineLogger } from '../helpers/pipeline.js';
import { startGrpcReceiver, type GrpcLogsReceiver } from '../helpers/grpc-receiver.js';
import { inSpan } from '../helpers/tracing.js';
import { waitUntil } from '../helpers/wait.js';

/** Protobuf by hand, for the responses and status details a collector sends. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
const int = (field: number, n: number): Buffer =>
  Buffer.from([...varint(field << 3), ...varint(n)]);
const len = (field: number, bytes: Buffer | string): Buffer => {
  const b = Buffer.from(bytes);
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(b.length)]), b]);
};

/** ExportLogsServiceResponse { partial_success { rejected_log_records, error_message } } */
function partialSuccess(rejected: number, message: string): Buffer {
  return len(1, Buffer.concat([int(1, rejected), len(2, message)]));
}

/** google.rpc.Status { code, message, details: [Any(RetryInfo { retry_delay })] } */
function statusWithRetryInfo(code: number, seconds: number, nanos: number): Buffer {
  const retryInfo = len(1, Buffer.concat([int(1, seconds), int(2, nanos)]));
  const any = Buffer.concat([
    len(1, 'type.googleapis.com/google.rpc.RetryInfo'),
    len(2, retryInfo),
  ]);
  return Buffer.concat([int(1, code), len(2, 'slow down'), len(3, any)]);
}

/** A TCP proxy on 127.0.0.1 in front of `target`, counting the bytes clients send through it. */
async function countingProxy(
  target: URL,
): Promise<{ url: string; sent: () => number; close: () => void }> {
  let sent = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
      a.pipe(b);
    }
    client.on('data', (chunk: Buffer) => (sent += chunk.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sent: () => sent,
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

const EMPTY_REQUEST: readonly Buffer[] = [Buffer.alloc(0)];

describe('exporter: GrpcSender against a real grpc-js server', function () {
  this.timeout(20_000);
  useDiagCapture();
  const receivers: GrpcLogsReceiver[] = [];
  const senders: Sender[] = [];

  async function receiver(options: grpc.ServerOptions = {}): Promise<GrpcLogsReceiver> {
    const r = await startGrpcReceiver(options);
    receivers.push(r);
    return r;
  }

  function sender(options: LogPipelineOptions = {}): { sender: Sender; timeoutMillis: number } {
    const setup = createSender(resolvePipelineSettings({ protocol: 'grpc', ...options }));
    senders.push(setup.sender);
    return setup;
  }

  const send = (s: Sender, timeoutMillis = 5000): Promise<AttemptResult> =>
    s.send(EMPTY_REQUEST, timeoutMillis, new AbortController().signal);

  afterEach(() => {
    for (const s of senders.splice(0)) s.shutdown();
    for (const r of receivers.splice(0)) r.close();
  });

  it('names the exporter and its server from the configured address', async () => {
    const r = await receiver();
    const { sender: s, timeoutMillis } = sender({ url: r.url, timeoutMillis: 1234 });
    const port = Number(new URL(r.url).port);
    expect(s).to.deep.include({
      componentType: 'otlp_grpc_log_exporter',
      url: `127.0.0.1:${port}`,
      serverAddress: '127.0.0.1',
      serverPort: port,
    });
    expect(timeoutMillis).to.equal(1234);
  });

  it('OK is a success; the partial success of the response is read', async () => {
    const r = await receiver();
    const { sender: s } = sender({ url: r.url });
    expect(await send(s)).to.deep.equal({
      outcome: 'success',
      rejected: 0,
      message: undefined,
      status: undefined,
    });
    r.answer = () => ({ response: partialSuccess(3, 'three bad') });
    expect(await send(s)).to.deep.equal({
      outcome: 'success',
      rejected: 3,
      message: 'three bad',
      status: undefined,
    });
  });

  const { status } = grpc;
  const retryable = [
    status.CANCELLED,
    status.DEADLINE_EXCEEDED,
    status.ABORTED,
    status.OUT_OF_RANGE,
    status.UNAVAILABLE,
    status.DATA_LOSS,
  ];
  const failed = [
    status.RESOURCE_EXHAUSTED, // without RetryInfo: retried only when the server says when
    status.UNKNOWN,
    status.INVALID_ARGUMENT,
    status.NOT_FOUND,
    status.ALREADY_EXISTS,
    status.PERMISSION_DENIED,
    status.FAILED_PRECONDITION,
    status.UNIMPLEMENTED,
    status.INTERNAL,
    status.UNAUTHENTICATED,
  ];

  it('maps every status as the OTLP specification says: the retryable ones, and the others failed', async () => {
    const r = await receiver();
    const { sender: s } = sender({ url: r.url });
    for (const code of [...retryable, ...failed]) {
      r.answer = () => ({ code, details: `answered ${status[code]}` });
      const result = await send(s);
      const name = status[code];
      expect(result, name).to.deep.include({
        outcome: retryable.includes(code) ? 'retryable' : 'failed',
        errorType: name,
        message: `gRPC ${name}: answered ${name}`,
        status: undefined,
      });
      if (result.outcome === 'retryable') expect(result.retryAfterMillis, name).to.equal(undefined);
      if (result.outcome === 'failed') expect(result.tooLarge, name).to.equal(false);
    }
  });

  it('RESOURCE_EXHAUSTED with a google.rpc.RetryInfo: the delay it asks for', async () => {
    const r = await receiver();
    const { sender: s } = sender({ url: r.url });
    const metadata = new grpc.Metadata();
    metadata.set(
      'grpc-status-details-bin',
      statusWithRetryInfo(status.RESOURCE_EXHAUSTED, 1, 500_000_000),
    );
    r.answer = () => ({ code: status.RESOURCE_EXHAUSTED, details: 'slow down', metadata });
    expect(await send(s)).to.deep.include({
      outcome: 'retryable',
      errorType: 'RESOURCE_EXHAUSTED',
      retryAfterMillis: 1500,
    });
  });

  it("a message larger than the server's limit: failed, tooLarge (the pipeline splits the batch)", async () => {
    const r = await receiver({ 'grpc.max_receive_message_length': 1024 });
    const { sender: s } = sender({ url: r.url });
    const result = await s.send([Buffer.alloc(4096)], 5000, new AbortController().signal);
    expect(result).to.deep.include({
      outcome: 'failed',
      errorType: 'RESOURCE_EXHAUSTED',
      tooLarge: true,
    });
  });

  it('no answer within timeoutMillis: DEADLINE_EXCEEDED, retryable', async () => {
    const r = await receiver();
    r.answer = () => 'hang';
    const { sender: s } = sender({ url: r.url });
    const started = Date.now();
    const result = await send(s, 200);
    expect(result).to.deep.include({ outcome: 'retryable', errorType: 'DEADLINE_EXCEEDED' });
    expect(Date.now() - started).to.be.below(3000);
  });

  it('the signal aborts the call at once: a network failure with its reason', async () => {
    const r = await receiver();
    r.answer = () => 'hang';
    const { sender: s } = sender({ url: r.url });
    const controller = new AbortController();
    const pending = s.send(EMPTY_REQUEST, 30_000, controller.signal);
    await r.waitForCalls(1);
    const started = Date.now();
    controller.abort(Object.assign(new Error('export abandoned'), { code: 'shutdown' }));
    const result = await pending;
    expect(Date.now() - started).to.be.below(1000);
    expect(result).to.deep.include({
      outcome: 'retryable',
      errorType: 'shutdown',
      message: 'export abandoned',
    });
    const aborted = await s.send(EMPTY_REQUEST, 30_000, controller.signal);
    expect(aborted).to.deep.include({ outcome: 'retryable', errorType: 'shutdown' });
    expect(r.calls).to.have.length(1);
  });

  it('nobody listening: UNAVAILABLE, retryable', async () => {
    const r = await receiver();
    r.close();
    const { sender: s } = sender({ url: r.url });
    expect(await send(s, 3000)).to.deep.include({ outcome: 'retryable', errorType: 'UNAVAILABLE' });
  });

  it('after shutdown() nothing is sent', async () => {
    const r = await receiver();
    const { sender: s } = sender({ url: r.url });
    expect(await send(s)).to.deep.include({ outcome: 'success' });
    s.shutdown();
    expect(await send(s)).to.deep.include({ outcome: 'failed', errorType: 'shutdown' });
    expect(r.calls).to.have.length(1);
  });

  describe('configuration as the upstream gRPC log exporter reads it', () => {
    const saved: Record<string, string | undefined> = {};
    function setEnv(vars: Record<string, string>): void {
      for (const [name, value] of Object.entries(vars)) {
        saved[name] = process.env[name];
        process.env[name] = value;
      }
    }
    afterEach(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
        delete saved[name];
      }
    });

    it('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, _HEADERS and _TIMEOUT apply when no option says otherwise', async () => {
      const r = await receiver();
      setEnv({
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: r.url,
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-from-env=yes',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-general=also,x-from-env=no',
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '4321',
      });
      const { sender: s, timeoutMillis } = sender();
      expect(timeoutMillis).to.equal(4321);
      expect(await send(s)).to.deep.include({ outcome: 'success' });
      const metadata = r.calls[0]!.metadata;
      expect(metadata.get('x-from-env')).to.deep.equal(['yes']);
      expect(metadata.get('x-general')).to.deep.equal(['also']);
    });

    it('options win over the environment', async () => {
      const r = await receiver();
      setEnv({
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://127.0.0.1:1',
        OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-key=env',
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '4321',
      });
      const { sender: s, timeoutMillis } = sender({
        url: r.url,
        headers: { 'x-key': 'option' },
        timeoutMillis: 999,
      });
      expect(timeoutMillis).to.equal(999);
      expect(await send(s)).to.deep.include({ outcome: 'success' });
      expect(r.calls[0]!.metadata.get('x-key')).to.deep.equal(['option']);
    });

    it('headers that cannot be gRPC metadata are a coded error, without showing the value', () => {
      const bad = (headers: Record<string, string>): OtelWinstonError => {
        try {
          new LogPipeline({ protocol: 'grpc', url: 'http://127.0.0.1:1', headers });
        } catch (error) {
          return error as OtelWinstonError;
        }
        throw new Error('expected an error');
      };
      const key = bad({ 'x key': 'v' });
      expect(key).to.be.instanceOf(OtelWinstonError);
      expect(key.code).to.equal('OTW_ERR_INVALID_OPTION');
      expect(key.message).to.include('`"x key"`');
      expect(bad({ 'trace-bin': 'v' }).message).to.include('`"trace-bin"`');
      const value = bad({ authorization: 'Bearer secret\n' });
      expect(value.code).to.equal('OTW_ERR_INVALID_OPTION');
      expect(value.message).to.include('headers["authorization"]');
      expect(value.message).to.not.include('secret');
    });
  });
});

describe('exporter: LogPipeline over gRPC (winston → OtelTransport → LogPipeline → grpc-js server)', function () {
  this.timeout(20_000);
  useDiagCapture();
  let r: GrpcLogsReceiver;
  const pipelines: LogPipeline[] = [];

  beforeEach(async () => {
    r = await startGrpcReceiver();
  });
  afterEach(async () => {
    await Promise.all(pipelines.splice(0).map((p) => p.shutdown()));
    r.close();
  });

  function setup(options: LogPipelineOptions = {}): PipelineLogger {
    const s = pipelineLogger({ protocol: 'grpc', url: r.url, ...options });
    pipelines.push(s.pipeline);
    return s;
  }

  it('records arrive with their attributes and trace ids', async () => {
    const { pipeline, logger } = setup();
    const span = await inSpan('checkout', (s) => {
      logger.info('order placed', { orderId: 'A-1', items: 3 });
      logger.warn('stock low', { sku: 'X' });
      return s.spanContext();
    });
    await pipeline.forceFlush();
    expect(r.logs.map((l) => l.body)).to.deep.equal(['order placed', 'stock low']);
    const [placed, low] = r.logs;
    expect(placed!.attributes).to.include({ orderId: 'A-1', items: 3 });
    expect(low!.attributes).to.include({ sku: 'X' });
    expect(low!.severityText).to.equal('warn');
    for (const record of r.logs) {
      expect(record.traceId).to.equal(span.traceId);
      expect(record.spanId).to.equal(span.spanId);
    }
    expect(pipeline.stats()).to.deep.include({ created: 2, exported: 2, droppedTotal: 0 });
  });

  it('UNAVAILABLE for the first attempts, then OK: every record delivered once', async () => {
    r.answer = (n) => (n < 3 ? { code: grpc.status.UNAVAILABLE } : { response: Buffer.alloc(0) });
    const { pipeline, logger } = setup();
    for (let i = 0; i < 20; i++) logger.info('record', { seq: i });
    await pipeline.forceFlush();
    expect(r.calls.length).to.be.at.least(4);
    expect(r.logs.map((l) => l.attributes.seq)).to.have.members([...Array(20).keys()]);
    expect(pipeline.stats()).to.deep.include({
      created: 20,
      exported: 20,
      droppedTotal: 0,
      queued: 0,
      inFlight: 0,
    });
  });

  it('INVALID_ARGUMENT: the records are dropped as rejected, after one call', async () => {
    r.answer = () => ({ code: grpc.status.INVALID_ARGUMENT, details: 'bad request' });
    const { pipeline, logger } = setup();
    for (let i = 0; i < 5; i++) logger.info('record', { seq: i });
    await pipeline.forceFlush();
    expect(r.calls).to.have.length(1);
    const stats = pipeline.stats();
    expect(stats).to.deep.include({ created: 5, exported: 0, droppedTotal: 5 });
    expect(stats.dropped.rejected).to.equal(5);
    expect(balanced(stats)).to.equal(true);
  });

  it('a partial success: the records the collector rejected are counted rejected', async () => {
    r.answer = () => ({ response: partialSuccess(2, 'two records too old') });
    const { pipeline, logger } = setup();
    for (let i = 0; i < 5; i++) logger.info('record', { seq: i });
    await pipeline.forceFlush();
    const stats = pipeline.stats();
    expect(stats).to.deep.include({ created: 5, exported: 3, droppedTotal: 2 });
    expect(stats.dropped.rejected).to.equal(2);
    expect(balanced(stats)).to.equal(true);
  });

  it('the headers option arrives as metadata, with the user agent', async () => {
    const { pipeline, logger } = setup({ headers: { 'x-api-key': 'k-123', Tenant: 'acme' } });
    logger.info('with metadata');
    await pipeline.forceFlush();
    const metadata = r.calls[0]!.metadata;
    expect(metadata.get('x-api-key')).to.deep.equal(['k-123']);
    expect(metadata.get('tenant')).to.deep.equal(['acme']);
    expect(String(metadata.get('user-agent')[0])).to.match(/^otel-winston\/\S+ grpc-node-js\//);
  });

  it("compression: 'gzip' is sent gzip-compressed (fewer bytes on the wire) and arrives decodable", async () => {
    const sent: Record<string, number> = {};
    for (const compression of ['gzip', 'none'] as const) {
      const proxy = await countingProxy(new URL(r.url));
      try {
        const { pipeline, logger } = setup({ compression, url: proxy.url });
        for (let i = 0; i < 20; i++) logger.info('compressed', { seq: i, pad: 'x'.repeat(1000) });
        await pipeline.forceFlush();
        expect(pipeline.stats().exported, compression).to.equal(20);
        sent[compression] = proxy.sent();
      } finally {
        proxy.close();
      }
    }
    expect(r.logs).to.have.length(40);
    expect(r.logs[19]!.attributes).to.include({ seq: 19, pad: 'x'.repeat(1000) });
    expect(sent.none).to.be.above(20_000);
    expect(sent.gzip).to.be.below(sent.none! / 4);
  });

  it("a server's message size limit: the batch is split until it fits, every record delivered", async () => {
    r.close();
    r = await startGrpcReceiver({ 'grpc.max_receive_message_length': 4096 });
    const { pipeline, logger } = setup();
    for (let i = 0; i < 60; i++) logger.info('sized record', { seq: i, pad: 'y'.repeat(100) });
    await pipeline.forceFlush();
    expect(r.logs.map((l) => l.attributes.seq)).to.have.members([...Array(60).keys()]);
    expect(pipeline.stats()).to.deep.include({ created: 60, exported: 60, droppedTotal: 0 });
  });

  it('a server that never answers: shutdown() ends on time and counts the records as shutdown', async () => {
    r.answer = () => 'hang';
    const { pipeline, logger } = setup({ shutdownTimeoutMillis: 300, timeoutMillis: 30_000 });
    for (let i = 0; i < 3; i++) logger.info('record', { seq: i });
    await r.waitForCalls(1);
    await waitUntil('the records in flight', () => pipeline.stats().inFlight === 3);
    const started = Date.now();
    await pipeline.shutdown();
    const elapsed = Date.now() - started;
    expect(elapsed).to.be.at.least(250).and.below(1500);
    const stats = pipeline.stats();
    expect(stats.dropped.shutdown).to.equal(3);
    expect(stats).to.deep.include({ created: 3, exported: 0, queued: 0, inFlight: 0 });
    expect(balanced(stats)).to.equal(true);
  });
});
