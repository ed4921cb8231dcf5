import { startTestServer, type TestServer } from '../../apps/kanban-server/test/support/test-server';
import { installInMemoryTracing, type InMemoryTracing } from './support/in-memory-tracing';

const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const CALLER_TRACEPARENT = `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01`;
const CALLER_TRACESTATE = 'vendor=opaque';

describe("POST /work carries the caller's traceparent header to the HTTP pull", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("returns the traceparent and tracestate of a POST /work in the pulled item's headers when no tracer is registered", async () => {
    // Arrange
    const domain = server.domain('untraced');

    // Act
    await server.http().post('/work').set('traceparent', CALLER_TRACEPARENT).set('tracestate', CALLER_TRACESTATE).send({ priority: 'normal', domain, payload: {}, deadlineMs: 60_000 }).expect(201);
    const pulled = await server.http().post('/work/pull').send({ domain, max: 1, waitMs: 5_000 }).expect(200);

    // Assert
    expect(pulled.body[0].headers).toEqual({ traceparent: CALLER_TRACEPARENT, tracestate: CALLER_TRACESTATE });
  });

  it('ignores a malformed traceparent header, as W3C Trace Context asks, and publishes the item without one', async () => {
    // Arrange
    const domain = server.domain('malformed');

    // Act
    await server.http().post('/work').set('traceparent', 'not-a-traceparent').set('tracestate', 'x'.repeat(5_000)).send({ priority: 'normal', domain, payload: {}, deadlineMs: 60_000 }).expect(201);
    const pulled = await server.http().post('/work/pull').send({ domain, max: 1, waitMs: 5_000 }).expect(200);

    // Assert
    expect(pulled.body[0].headers).toEqual({});
  });

  describe('with a tracer registered', () => {
    let tracing: InMemoryTracing;

    beforeAll(() => {
      tracing = installInMemoryTracing();
    });
    afterAll(async () => {
      await tracing.uninstall();
    });

    it("returns the traceparent of the publish span, a child of the caller's, in the pulled item's headers", async () => {
      // Arrange
      const domain = server.domain('traced');

      // Act
      const published = await server.http().post('/work').set('traceparent', CALLER_TRACEPARENT).send({ priority: 'high', domain, payload: {}, deadlineMs: 60_000 }).expect(201);
      const pulled = await server.http().post('/work/pull').send({ domain, max: 1, waitMs: 5_000 }).expect(200);

      // Assert
      const [producer] = await tracing.spans(`kanban publish ${domain}`, 1);
      expect(producer.attributes['messaging.message.id']).toBe(published.body.id);
      expect(producer.spanContext().traceId).toBe(CALLER_TRACE_ID);
      expect(producer.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
      expect(pulled.body[0].headers.traceparent).toBe(`00-${CALLER_TRACE_ID}-${producer.spanContext().spanId}-01`);
    });
  });
});
