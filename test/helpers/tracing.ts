import { context, trace, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';

let tracer: Tracer | undefined;

/** A real tracer with the AsyncLocalStorage context manager registered, once per process. */
export function testTracer(): Tracer {
  if (tracer === undefined) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    tracer = new TracerProvider().getTracer('otel-winston-test');
  }
  return tracer;
}

/** Runs `fn` inside a new active span and ends the span after it. */
export async function inSpan<T>(name: string, fn: (span: Span) => T | Promise<T>): Promise<T> {
  return testTracer().startActiveSpan(name, async (span) => {
    try {
      return await fn(span);
    } finally {
      span.end();
    }
  });
}

export { trace };
