/** Prometheus metrics: one registry per service process, default Node metrics included. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'operation' | 'status'>;
  readonly requestDuration: Histogram<'operation'>;
  readonly errors: Counter<'code'>;
}

export function createMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({ name: 'folio_graphql_requests_total', help: 'GraphQL requests', labelNames: ['operation', 'status'], registers: [registry] }),
    requestDuration: new Histogram({
      name: 'folio_graphql_request_duration_seconds',
      help: 'GraphQL request latency',
      labelNames: ['operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    errors: new Counter({ name: 'folio_graphql_errors_total', help: 'GraphQL errors by code', labelNames: ['code'], registers: [registry] }),
  };
}
