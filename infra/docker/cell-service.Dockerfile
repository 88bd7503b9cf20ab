# syntax=docker/dockerfile:1.7
# The cell-service image: what every cell replica runs, and what a rollout puts on a cell AZ by AZ.
# Built and pushed by .github/workflows/deploy.yml; by hand, from the repository root:
#   docker build -f infra/docker/cell-service.Dockerfile -t cellwallet/cell-service:v2 .
# The manifests (infra/cdk8s) run it as UID 10001 with a read-only root filesystem and /tmp writable, set no
# command (CMD below is it) and pass every setting by environment (cell-service/src/config.ts).
# Pin the base image by digest in production (NODE_IMAGE=node:22-bookworm-slim@sha256:...).
ARG NODE_IMAGE=node:22-bookworm-slim

# Production dependencies of the cell service alone (npm workspaces: ~100 packages, not the infra's), with
# better-sqlite3's native binding (13.x ships prebuilt Node-API binaries; python3/make/g++ stay for any other
# native module).
FROM ${NODE_IMAGE} AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace @cellwallet/cell-service \
  && npm rebuild better-sqlite3

# The compiled cell service and the workspace packages it imports (tsc -b builds its references: contract, chain,
# store-support, telemetry). node_modules/@cellwallet/* are links to these folders: each must be in the image.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN npm ci --ignore-scripts --no-audit --no-fund && npx tsc -b contract cell-service

FROM ${NODE_IMAGE}
ENV NODE_ENV=production HOST=0.0.0.0 PORT=9000
WORKDIR /app
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/chain/package.json ./chain/
COPY --from=build /src/chain/dist ./chain/dist
COPY --from=build /src/contract/package.json ./contract/
COPY --from=build /src/contract/dist ./contract/dist
COPY --from=build /src/store-support/package.json ./store-support/
COPY --from=build /src/store-support/dist ./store-support/dist
COPY --from=build /src/telemetry/package.json ./telemetry/
COPY --from=build /src/telemetry/dist ./telemetry/dist
COPY --from=build /src/cell-service/package.json ./cell-service/
COPY --from=build /src/cell-service/dist ./cell-service/dist
USER 10001:10001
EXPOSE 9000
CMD ["node", "cell-service/dist/main.js"]
