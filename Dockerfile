# One image for every Folio service; FOLIO_SERVICES picks which one a container runs.
# The browser pages (admin/: console and GraphiQL) are built in a stage of their own; only
# admin/dist reaches the image.
FROM node:20.20-bookworm-slim AS admin
WORKDIR /admin
COPY admin/package.json admin/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY admin ./
RUN npm run build

FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# onnxruntime-node's install script would fetch CUDA libraries (npm 10 ignores package.json's
# allowScripts); the CPU library the in-process embedder uses ships in the package.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY lib ./lib
COPY schema ./schema
COPY gateway ./gateway
COPY subgraphs ./subgraphs
COPY scripts ./scripts
COPY --from=admin /admin/dist ./admin/dist
USER node
# tsx runs the TypeScript sources directly (no build step to drift from the sources).
CMD ["node", "--import", "tsx", "scripts/start.ts"]
