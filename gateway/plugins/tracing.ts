/**
 * OpenTelemetry hooks: one `folio.gateway.request` span per GraphQL request, a child of the caller's
 * W3C trace context (`traceparent`/`tracestate`) when it sent one, and the trace context to put on
 * every subgraph request. Everything goes through @opentelemetry/api, so with no SDK registered the
 * span is a non-recording no-op and the cost is a few small allocations.
 *
 * Without an SDK the API's propagator is a no-op and would drop the caller's trace; a hop that does
 * not trace should still forward the context (W3C Trace Context §3.2), so the caller's own valid
 * `traceparent`/`tracestate` is passed through unchanged in that case.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_CONTEXT, SpanKind, propagation, trace, type Context, type Span } from '@opentelemetry/api';

export interface RequestTrace {
  readonly span: Span;
  /** The request's context (the span inside it): run the request in it so engine spans nest. */
  readonly context: Context;
  /** Trace headers for subgraph requests (`traceparent`, `tracestate`, …); empty when there is no trace. */
  readonly headers: Readonly<Record<string, string>>;
}

const tracer = trace.getTracer('folio-gateway');
// version-traceid-parentid-flags, lowercase hex; the all-zero ids are invalid (W3C Trace Context §3.2.2).
const TRACEPARENT = /^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_TRACESTATE = 512;
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export function startRequestTrace(headers: IncomingHttpHeaders): RequestTrace {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer.startSpan('folio.gateway.request', { kind: SpanKind.SERVER }, parent);
  const context = trace.setSpan(parent, span);
  const carrier: Record<string, string> = {};
  propagation.inject(context, carrier);
  for (const _ in carrier) return { span, context, headers: carrier };
  return { span, context, headers: passThrough(headers) };
}

function passThrough(headers: IncomingHttpHeaders): Readonly<Record<string, string>> {
  const traceparent = headers.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return NO_HEADERS;
  const tracestate = headers.tracestate;
  return typeof tracestate === 'string' && tracestate.length <= MAX_TRACESTATE && /^[\x20-\x7e]*$/.test(tracestate)
    ? { traceparent, tracestate }
    : { traceparent };
}
