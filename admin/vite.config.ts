import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Two pages, one build: the console (index.html, served at /admin) and GraphiQL (graphiql.html,
// served at /graphql to browsers). Every asset lives under /admin/assets/ with a content hash, so
// the gateway can cache them for a year; the HTML pages are never cached.
export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  // The GraphQL language worker splits into chunks; module workers allow that (Chromium, Firefox, Safari 15+).
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline <script>s or data: URLs for scripts: the gateway's CSP is script-src 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 8000,
    rollupOptions: {
      input: { index: fileURLToPath(new URL('./index.html', import.meta.url)), graphiql: fileURLToPath(new URL('./graphiql.html', import.meta.url)) },
    },
  },
});
