/** What clients and subgraphs see around a request: masked errors, the client address behind proxies, request id and trace context. */
import { propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './kit/gatewayStack.js';
import { graphql } from './kit/platform.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe.each(['production', 'development'])('gateway errors in %s mode', (mode) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ NODE_ENV: mode });
  });
  afterAll(async () => stack?.[Symbol.asyncDispose]());

  it('masks a subgraph’s raw error as INTERNAL_SERVER_ERROR, without stack traces or driver text', async () => {
    const result = await graphql(stack.gateway, '{ books { id } broken }');
    expect(result.status).toBe(200);
    expect(result.data?.books).toHaveLength(3); // the rest of the answer survives
    expect(result.errors).toEqual([
      { message: 'Internal server error.', path: ['broken'], extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'catalog' } },
    ]);
    const text = JSON.stringify(result.errors);
    expect(text).not.toMatch(/stacktrace|E11000|MongoServerError|\/srv\/|store\.ts/);
  });

  it('keeps client-facing errors as they are, minus internals', async () => {
    const result = await graphql(stack.gateway, '{ book { id } }');
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.errors?.[0]?.message).toMatch(/argument "id"/);
    expect(JSON.stringify(result.errors)).not.toMatch(/stacktrace/);
  });
});

describe('client address, request id and trace context', () => {
  let stack: TestStack;
  let behindProxy: string;
  beforeAll(async () => {
    stack = await startTestStack();
    behindProxy = await stack.addGateway({ FOLIO_GATEWAY_TRUSTED_PROXIES: '127.0.0.1,::1,10.0.0.0/8' });
  });
  afterAll(async () => {
    propagation.disable();
    await stack?.[Symbol.asyncDispose]();
  });

  const whoami = '{ whoami { clientAddress requestId traceparent } }';

  it('ignores X-Forwarded-For unless the peer is a trusted proxy', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.7' };
    const direct = await graphql(stack.gateway, whoami, {}, { headers });
    expect(direct.data?.whoami.clientAddress).toBe('127.0.0.1');
    const proxied = await graphql(behindProxy, whoami, {}, { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.1.2.3' } });
    // Rightmost untrusted hop: the client's own "6.6.6.6" claim is not believed.
    expect(proxied.data?.whoami.clientAddress).toBe('203.0.113.7');
  });

  it('budgets per forwarded client address behind a trusted proxy', async () => {
    const limited = await stack.addGateway({ FOLIO_GATEWAY_TRUSTED_PROXIES: '127.0.0.1', FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '2/60' });
    const from = (address: string) => graphql(limited, '{ books { id } }', {}, { headers: { 'x-forwarded-for': address } });
    expect((await from('198.51.100.1')).status).toBe(200);
    expect((await from('198.51.100.1')).status).toBe(200);
    expect((await from('198.51.100.1')).status).toBe(429);
    expect((await from('198.51.100.2')).status).toBe(200);
  });

  it('sends the request id to subgraphs and echoes it', async () => {
    const result = await graphql(stack.gateway, whoami, {}, { headers: { 'x-request-id': 'req-abc-12345' } });
    expect(result.headers.get('x-request-id')).toBe('req-abc-12345');
    expect(result.data?.whoami.requestId).toBe('req-abc-12345');
    const minted = await graphql(stack.gateway, whoami, {}, { headers: { 'x-request-id': 'bad id!' } });
    expect(minted.data?.whoami.requestId).toBe(minted.headers.get('x-request-id'));
    expect(minted.data?.whoami.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('forwards a valid W3C traceparent to subgraphs when no OpenTelemetry SDK is registered', async () => {
    const result = await graphql(stack.gateway, whoami, {}, { headers: { traceparent: TRACEPARENT } });
    expect(result.data?.whoami.traceparent).toBe(TRACEPARENT);
    const invalid = await graphql(stack.gateway, whoami, {}, { headers: { traceparent: 'not-a-trace' } });
    expect(invalid.data?.whoami.traceparent).toBeNull();
  });

  it('propagates the trace context through the registered propagator', async () => {
    // A minimal W3C propagator (the SDK's lives in @opentelemetry/core, which Folio does not ship).
    const injected: string[] = [];
    const w3c: TextMapPropagator = {
      inject(context, carrier, setter) {
        const span = trace.getSpanContext(context);
        if (!span) return;
        const value = `00-${span.traceId}-${span.spanId}-0${span.traceFlags}`;
        injected.push(value);
        setter.set(carrier, 'traceparent', value);
      },
      extract(context, carrier, getter) {
        const [, traceId, spanId, flags] = String(getter.get(carrier, 'traceparent') ?? '').split('-');
        if (!traceId || !spanId) return context;
        return trace.setSpanContext(context, { traceId, spanId, traceFlags: Number.parseInt(flags ?? '0', 16), isRemote: true });
      },
      fields: () => ['traceparent'],
    };
    propagation.setGlobalPropagator(w3c);
    const result = await graphql(stack.gateway, `{ whoami { traceparent } }`, {}, { headers: { traceparent: TRACEPARENT } });
    expect(injected.length).toBeGreaterThan(0);
    expect(result.data?.whoami.traceparent).toBe(injected[0]);
    expect(result.data?.whoami.traceparent?.split('-')[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
