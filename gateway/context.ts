/**
 * Private to the gateway: the per-request context every plugin and the subgraph fetcher share.
 */
import type { BaseContext } from '@apollo/server';
import type { OperationTypeNode } from 'graphql';
import type { Caller } from '../lib/identity.js';
import type { SignedRequest } from '../lib/signing.js';
import type { UsageFacts } from './plugins/schemaUsage.js';
import type { Prefetched } from './singleFetch.js';

export interface GatewayContext extends BaseContext {
  readonly caller: Caller;
  readonly requestId: string;
  /** Signs one subgraph request for this caller: the headers are good for that request, once (lib/signing.ts). */
  readonly sign: (request: SignedRequest) => Record<string, string>;
  /** W3C trace context (`traceparent`, `tracestate`) for every subgraph request; may be empty. */
  readonly traceHeaders: Readonly<Record<string, string>>;
  /** Everything about the caller that can change an answer; keys shared work (dedup, caches). */
  readonly identityKey: string;
  /** The client and document key field usage is recorded under (plugins/schemaUsage.ts); absent when recording is off. */
  readonly usage?: UsageFacts | undefined;
  /**
   * Filled in during execution: the operation by plugins/operationFacts.ts once Apollo has resolved
   * it, the rest as listed. The pipeline's `execute` stage hands them on as request facts
   * (pipeline.ts RequestFacts). A nested object on purpose: Apollo Server shallow-clones the
   * context value per request.
   */
  readonly facts: {
    operationKind?: OperationTypeNode;
    operationName?: string | null;
    /** Set by the single-fetch fast path when it hands a received subgraph answer to the normal path (singleFetch.ts). */
    prefetched?: Prefetched;
    /** Folded from subgraph responses (subgraphFetcher.ts): cache tags, purges a mutation asked for, first fetch time. */
    cacheTags?: Set<string>;
    cachePurges?: Set<string>;
    firstFetchAt?: number;
  };
}

/** Everything in a Caller that a subgraph can see, as one string: two callers with the same key are indistinguishable downstream. */
export function identityKeyOf(caller: Caller): string {
  return [caller.userId ?? '', caller.roles.join(','), caller.sessionId ?? '', caller.partnerId ?? '', caller.scopes.join(','), caller.clientAddress, caller.territory ?? ''].join('\n');
}
