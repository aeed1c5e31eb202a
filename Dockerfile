# One image for every Folio service; FOLIO_SERVICES picks which one a container runs.
FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY lib ./lib
COPY schema ./schema
COPY gateway ./gateway
COPY subgraphs ./subgraphs
COPY scripts ./scripts
USER node
# tsx runs the TypeScript sources directly (no build step to drift from the sources).
CMD ["node", "--import", "tsx", "scripts/start.ts"]
