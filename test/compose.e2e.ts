import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
}

describe('docker-compose.yml (the production shape; no Docker engine runs here, so it is checked by reading)', () => {
  const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };

  const THIRD_PARTY = ['embeddings', 'llm', 'mongo', 'qdrant'];

  it('runs MongoDB as a replica set, Qdrant, an embedding model, an optional LLM, the four subgraphs and the gateway as separate services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['accounts', 'catalog', 'embeddings', 'gateway', 'llm', 'mongo', 'qdrant', 'search', 'ugc']);
    expect(JSON.stringify(compose.services.mongo)).toContain('--replSet');
  });

  it('gives every service a health check, and each Folio service exactly one FOLIO_SERVICES entry', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck?.test, name).toBeTruthy();
      if (THIRD_PARTY.includes(name)) continue;
      expect(service.environment?.FOLIO_SERVICES).toBe(name);
      expect(service.environment?.MONGODB_URI).toMatch(/replicaSet=rs0/);
      expect(service.environment?.NODE_ENV).toBe('production');
    }
  });

  it('gives search the multilingual embedding model, started first, and the LLM only when configured', () => {
    const search = compose.services.search!;
    expect(search.environment?.FOLIO_EMBEDDINGS_URL).toBe('http://embeddings:80');
    expect(search.depends_on?.embeddings?.condition).toBe('service_healthy');
    expect(search.environment?.FOLIO_LLM_URL).toBe('${FOLIO_LLM_URL:-}');
  });

  it('starts the gateway only after the subgraphs are healthy', () => {
    const deps = compose.services.gateway!.depends_on!;
    for (const name of ['accounts', 'catalog', 'ugc', 'search']) expect(deps[name]?.condition).toBe('service_healthy');
  });
});
