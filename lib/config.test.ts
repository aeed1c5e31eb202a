import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('configuration', () => {
  it('fills documented defaults', () => {
    const config = loadConfig({});
    expect(config.gatewayPort).toBe(4000);
    expect(config.subgraphPorts).toEqual({ accounts: 4001, catalog: 4002, ugc: 4003, search: 4004 });
    expect(config.production).toBe(false);
    expect(config.admin.username).toBe('admin');
    expect(config.internalSecret.length).toBeGreaterThanOrEqual(32);
    expect(config.mongodbUri).toBeUndefined();
  });

  it('serves GraphiQL in development only, unless FOLIO_GATEWAY_GRAPHIQL says otherwise', () => {
    const production = { NODE_ENV: 'production', FOLIO_INTERNAL_SECRET: 'x'.repeat(40), FOLIO_ADMIN_PASSWORD: 'a long admin password', FOLIO_OPS_TOKEN: 'o'.repeat(32) };
    expect(loadConfig({}).gateway.graphiql).toBe(true);
    expect(loadConfig({ FOLIO_GATEWAY_GRAPHIQL: 'false' }).gateway.graphiql).toBe(false);
    expect(loadConfig(production).gateway.graphiql).toBe(false);
    expect(loadConfig({ ...production, FOLIO_GATEWAY_GRAPHIQL: 'true' }).gateway.graphiql).toBe(true);
    expect(() => loadConfig({ FOLIO_GATEWAY_GRAPHIQL: 'yes' })).toThrow(/FOLIO_GATEWAY_GRAPHIQL/);
  });

  it('names every bad variable', () => {
    try {
      loadConfig({ FOLIO_GATEWAY_PORT: 'eighty', MONGODB_URI: 'postgres://x', QDRANT_URL: 'not a url' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toContain('FOLIO_GATEWAY_PORT');
      expect(message).toContain('MONGODB_URI');
      expect(message).toContain('QDRANT_URL');
    }
  });

  it('requires secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/FOLIO_INTERNAL_SECRET.*\n.*FOLIO_ADMIN_PASSWORD|FOLIO_ADMIN_PASSWORD/s);
    const config = loadConfig({ NODE_ENV: 'production', FOLIO_INTERNAL_SECRET: 'x'.repeat(40), FOLIO_ADMIN_PASSWORD: 'a long admin password', FOLIO_OPS_TOKEN: 'o'.repeat(32) });
    expect(config.demoData).toBe(false);
  });

  it('keeps metrics and readiness off the public port in production: a token or a port of their own', () => {
    const secrets = { NODE_ENV: 'production', FOLIO_INTERNAL_SECRET: 'x'.repeat(40), FOLIO_ADMIN_PASSWORD: 'a long admin password' };
    expect(() => loadConfig(secrets)).toThrow(/FOLIO_OPS_TOKEN: required when NODE_ENV=production/);
    expect(loadConfig({ ...secrets, FOLIO_GATEWAY_OPS_PORT: '9400' }).gateway.opsPort).toBe(9400);
    expect(loadConfig({ ...secrets, FOLIO_OPS_TOKEN: 'o'.repeat(32) }).opsToken).toBe('o'.repeat(32));
    expect(() => loadConfig({ FOLIO_OPS_TOKEN: 'short' })).toThrow(/FOLIO_OPS_TOKEN/);
    expect(loadConfig({}).gateway.opsPort).toBeUndefined();
  });

  it('parses service hosts and rejects unknown services', () => {
    expect(loadConfig({ FOLIO_SERVICE_HOSTS: 'accounts=acc, search=srch' }).serviceHosts).toMatchObject({ accounts: 'acc', search: 'srch', catalog: '127.0.0.1' });
    expect(() => loadConfig({ FOLIO_SERVICE_HOSTS: 'billing=x' })).toThrow(/FOLIO_SERVICE_HOSTS/);
  });

  it('runs every service unless FOLIO_SERVICES names some, and names an unknown one', () => {
    expect(loadConfig({}).services).toEqual(['accounts', 'catalog', 'ugc', 'search', 'gateway']);
    expect(loadConfig({ FOLIO_SERVICES: 'search, gateway' }).services).toEqual(['search', 'gateway']);
    expect(() => loadConfig({ FOLIO_SERVICES: 'accounts,billing' })).toThrow(/FOLIO_SERVICES: unknown service\(s\) billing/);
  });

  it('fills the sign-in throttle defaults and names a bad budget', () => {
    expect(loadConfig({}).loginThrottle).toEqual({ perPair: 5, perAddress: 100, usernameFree: 10, registrationsPerAddress: 20 });
    expect(() => loadConfig({ FOLIO_LOGIN_FAILURES_PER_PAIR: '0' })).toThrow(/FOLIO_LOGIN_FAILURES_PER_PAIR/);
  });

  it('reads the territory header name in lower case, unset by default', () => {
    expect(loadConfig({}).gateway.territoryHeader).toBeUndefined();
    expect(loadConfig({ FOLIO_GATEWAY_TERRITORY_HEADER: '' }).gateway.territoryHeader).toBeUndefined();
    expect(loadConfig({ FOLIO_GATEWAY_TERRITORY_HEADER: ' CF-IPCountry ' }).gateway.territoryHeader).toBe('cf-ipcountry');
    expect(() => loadConfig({ FOLIO_GATEWAY_TERRITORY_HEADER: 'bad header:' })).toThrow(/FOLIO_GATEWAY_TERRITORY_HEADER/);
  });

  it('reads the cache purge channel, refusing names Redis tools would mangle', () => {
    expect(loadConfig({}).gateway.cachePurgeChannel).toBe('folio:gateway:cache-purge');
    expect(loadConfig({ FOLIO_GATEWAY_CACHE_PURGE_CHANNEL: 'staging:purges' }).gateway.cachePurgeChannel).toBe('staging:purges');
    expect(() => loadConfig({ FOLIO_GATEWAY_CACHE_PURGE_CHANNEL: 'has space' })).toThrow(/FOLIO_GATEWAY_CACHE_PURGE_CHANNEL/);
  });
});
