import { describe, expect, it } from 'vitest';
import { createMetrics, dbOperationCounter } from './metrics.js';

describe('operation labels', () => {
  it('labels only names of operations that ran, keeps at most N, and drops the series of evicted names', async () => {
    const metrics = createMetrics('test', { maxOperationLabels: 2 });
    metrics.operations.record('Invented', '200', 0.01);
    for (const name of ['A', 'B', 'C']) {
      metrics.operations.admit(name);
      metrics.operations.record(name, '200', 0.01);
    }
    metrics.operations.record(null, '200', 0.01);
    const text = await metrics.registry.metrics();
    const labels = [...text.matchAll(/folio_graphql_requests_total\{operation="([^"]+)"/g)].map((m) => m[1]).sort();
    expect(labels).toEqual(['B', 'C', 'anonymous', 'other']);
    expect(text).not.toMatch(/operation="(A|Invented)"/);
  });
});

describe('store operation counts', () => {
  it('counts each collection and method in its own series', async () => {
    const metrics = createMetrics('test');
    const count = dbOperationCounter(metrics.registry);
    for (const op of [{ collection: 'books', method: 'find' }, { collection: 'books', method: 'find' }, { collection: 'books', method: 'findOne' }, { collection: 'jobs', method: 'find' }]) count(op);
    const text = await metrics.registry.metrics();
    expect(text).toContain('folio_db_operations_total{collection="books",method="find",service="test"} 2');
    expect(text).toContain('folio_db_operations_total{collection="books",method="findOne",service="test"} 1');
    expect(text).toContain('folio_db_operations_total{collection="jobs",method="find",service="test"} 1');
  });
});
