/**
 * GraphiQL, bundled: the gateway serves this page to browsers at GET /graphql, so the IDE works
 * offline (no CDN). The editor's web workers are emitted by Vite as files of our own origin
 * (CSP worker-src 'self').
 */
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './graphiql.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';

// Same origin as the page: the gateway's /graphql. JSON POSTs pass the API's CSRF rules as they are.
const fetcher = createGraphiQLFetcher({ url: `${window.location.origin}/graphql` });
// Passing plugins replaces GraphiQL's default list, so history is named again beside the explorer.
const plugins = [HISTORY_PLUGIN, explorerPlugin()];

const DEFAULT_QUERY = `# Folio GraphQL. Sign in with the login mutation, then put the token in Headers:
#   { "Authorization": "Bearer fst_..." }
query Books {
  books(first: 5) {
    totalCount
    edges { node { id title authors status } }
  }
}
`;

const container = document.getElementById('graphiql');
if (!container) throw new Error('#graphiql is missing from graphiql.html');
createRoot(container).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} plugins={plugins} defaultQuery={DEFAULT_QUERY} isHeadersEditorEnabled shouldPersistHeaders={false} />
  </StrictMode>,
);
