/**
 * Prometheus metrics for the gateway, served at GET /metrics: requests and latency per operation,
 * per-subgraph latency, errors by code, rate-limit rejections, response-cache hits, shed requests,
 * deduplicated requests. Operation names come from clients, so the label set is bounded
 * (lib/metrics.ts OperationLabels): names of operations the gateway ran, the most recent 200.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Histogram } from 'prom-client';
import { createMetrics, type MetricsOptions, type ServiceMetrics } from '../../lib/metrics.js';
import type { GatewayContext } from '../context.js';

export interface GatewayMetrics extends ServiceMetrics {
  readonly subgraphDuration: Histogram<'subgraph' | 'outcome'>;
  readonly rateLimited: Counter<'kind'>;
  readonly responseCache: Counter<'result'>;
  /** Cacheable responses not stored, by reason (purged_during_fetch, too_many_tags). */
  readonly responseCacheNotStored: Counter<'reason'>;
  /** Purges by source (mutation, redis, events, reset) and the entries they removed. */
  readonly responseCachePurges: Counter<'source'>;
  readonly responseCachePurgedEntries: Counter<'source'>;
  readonly shed: Counter<'reason'>;
  readonly dedupJoined: Counter<'stage'>;
  /** Executions by path: fast (single fetch), replay (fast path handed over to the normal one), normal. */
  readonly execution: Counter<'path'>;
}

/** Admits the name of each operation Apollo Server executes as an operation label. */
export function operationLabelsPlugin(metrics: GatewayMetrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async executionDidStart({ operationName }) {
          metrics.operations.admit(operationName);
        },
      };
    },
  };
}

export function createGatewayMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const base = createMetrics('gateway', options);
  const registers = [base.registry];
  return {
    ...base,
    subgraphDuration: new Histogram({
      name: 'folio_gateway_subgraph_request_duration_seconds',
      help: 'Subgraph fetch latency',
      labelNames: ['subgraph', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    rateLimited: new Counter({ name: 'folio_gateway_rate_limited_total', help: 'Requests refused by a rate limit', labelNames: ['kind'], registers }),
    responseCache: new Counter({ name: 'folio_gateway_response_cache_total', help: 'Response cache lookups', labelNames: ['result'], registers }),
    responseCacheNotStored: new Counter({
      name: 'folio_gateway_response_cache_not_stored_total',
      help: 'Cacheable responses the response cache refused',
      labelNames: ['reason'],
      registers,
    }),
    responseCachePurges: new Counter({ name: 'folio_gateway_response_cache_purges_total', help: 'Response cache purges by tag', labelNames: ['source'], registers }),
    responseCachePurgedEntries: new Counter({
      name: 'folio_gateway_response_cache_purged_entries_total',
      help: 'Response cache entries removed by purges',
      labelNames: ['source'],
      registers,
    }),
    shed: new Counter({ name: 'folio_gateway_shed_total', help: 'Requests shed under overload', labelNames: ['reason'], registers }),
    dedupJoined: new Counter({
      name: 'folio_gateway_dedup_joined_total',
      help: 'Requests answered by an identical in-flight execution',
      labelNames: ['stage'],
      registers,
    }),
    execution: new Counter({ name: 'folio_gateway_execution_total', help: 'Operation executions by path (fast, replay, normal)', labelNames: ['path'], registers }),
  };
}
