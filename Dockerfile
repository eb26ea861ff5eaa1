# syntax=docker/dockerfile:1
#
# recflow image. Three stages:
#   build    full install, Prisma client generation and TypeScript compile
#   deps     production dependencies only
#   runtime  node_modules from deps, dist/ from build, migrations and schema
#
#   docker build -t recflow .
#   docker run --rm -p 127.0.0.1:4000:4000 \
#     -e RECFLOW_DATABASE_URL=... -e RECFLOW_REDIS_URL=... -e RECFLOW_NATS_URL=... \
#     recflow serve --role gateway
#
# Install scripts are skipped (`--ignore-scripts`), as npm 11 does by default:
# prebuilt binaries come as optional dependencies, and the Prisma client is
# generated offline by `npm run build` (scripts/prisma-generate.js). Migrations
# are applied by recflow at start-up from prisma/migrations.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    RECFLOW_HOST=0.0.0.0 \
    RECFLOW_PORT=4000
WORKDIR /app
# Everything stays owned by root: the `node` user can read the app, not change it.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY prisma/migrations ./prisma/migrations
COPY schema ./schema
COPY scripts/healthcheck.js ./scripts/healthcheck.js
USER node
EXPOSE 4000
# Liveness of the HTTP server (gateway and all roles); see scripts/healthcheck.js.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "scripts/healthcheck.js"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve", "--role", "all"]
