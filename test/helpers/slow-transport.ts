import { trace } from '@opentelemetry/api';
import TransportStream from 'winston-transport';

/**
 * A transport that takes 5 ms per record, as a remote or disk transport may.
 * With `highWaterMark: 1` it makes winston pause and deliver later records to
 * every transport later, in whatever async context resumes the stream.
 */
export class SlowTransport extends TransportStream {
  delivered = 0;
  constructor() {
    super({ highWaterMark: 1 } as TransportStream.TransportStreamOptions);
  }
  override log(_info: unknown, callback: () => void): void {
    setTimeout(() => {
      this.delivered++;
      callback();
    }, 5);
  }
  async drained(count: number): Promise<void> {
    while (this.delivered < count) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Notes the span that is active when winston delivers each record. */
export class DeliverySpy extends TransportStream {
  readonly activeAtDelivery: Array<string | undefined> = [];
  override log(_info: unknown, callback: () => void): void {
    this.activeAtDelivery.push(trace.getActiveSpan()?.spanContext().spanId);
    callback();
  }
}
