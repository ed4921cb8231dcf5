import { context, propagation, trace, SpanKind, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { waitFor } from '../../harness';

export interface InMemoryTracing {
  exporter: InMemorySpanExporter;
  /** Runs `work` inside a fresh span of the test's own, which is ended when `work` settles. */
  inSpan<T>(name: string, work: (span: Span) => Promise<T>): Promise<T>;
  /** The ended spans named `name`, once `count` of them are there. */
  spans(name: string, count: number): Promise<ReadableSpan[]>;
  uninstall(): Promise<void>;
}

/** Registers the OpenTelemetry SDK globally with an in-memory exporter, as an app would register its own. */
export function installInMemoryTracing(): InMemoryTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracer = trace.getTracer('kanban-tests');
  return {
    exporter,
    inSpan: (name, work) =>
      tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL }, async (span) => {
        try {
          return await work(span);
        } finally {
          span.end();
        }
      }),
    spans: (name, count) =>
      waitFor(
        () => {
          const found = exporter.getFinishedSpans().filter((span) => span.name === name);
          return found.length >= count ? found : undefined;
        },
        { timeoutMs: 20_000, description: `${count} ended span(s) named ${name}` },
      ),
    async uninstall() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The W3C `traceparent` of a span: version 00, trace id, span id, flags. */
export function traceparentOf(span: Pick<ReadableSpan, 'spanContext'>): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}
