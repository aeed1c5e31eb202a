/**
 * What every service module exports, so the launcher (scripts/start.ts), docker-compose's one
 * service per container, and the test kit start them the same way.
 */
import type { FolioConfig, SubgraphName } from './config.js';
import type { Logger } from './logger.js';
import type { Storage } from './storage/index.js';

export interface ServiceContext {
  readonly config: FolioConfig;
  /** Opened once per process; each service uses only its own database (`folio_<name>`). */
  readonly storage: Storage;
  readonly logger: Logger;
  /** Base URLs (no /graphql) of the other services, for signed internal calls and feeds. */
  readonly serviceUrls: Readonly<Record<SubgraphName, string>>;
}

export interface RunningService {
  readonly name: SubgraphName;
  readonly url: string;
  readonly port: number;
  /** Stops background work and the server; waits for in-flight requests. */
  stop(): Promise<void>;
}

export interface ServiceModule {
  readonly name: SubgraphName;
  start(context: ServiceContext): Promise<RunningService>;
}

export const databaseName = (service: SubgraphName): string => `folio_${service}`;
