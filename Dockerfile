# syntax=docker/dockerfile:1
# The gateway and operator images, from one build: `docker build --target gateway .` / `--target operator .`
# (`make images` builds both). Node 20 on Debian bookworm: the uWebSockets.js binary needs glibc, so no Alpine.
# Both images run `node dist/cli/rtgw.js <command>` as PID 1 with no shell in between, so SIGTERM reaches Node and
# the gateway's drain (reconnect frames, 1012 closes spread over RTGW_DRAIN_SECONDS) runs on pod termination.

ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies only, exactly as the lock pins them. uWebSockets.js carries a binary for every platform
# and Node ABI (~90 MB); only this image's own stays (gateway/src/native.ts refuses the JS shim, so a wrong pick
# fails at start, which test/image would see).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
 && npm cache clean --force \
 && keep="uws_$(node -p 'process.platform + "_" + process.arch + "_" + process.versions.modules').node" \
 && test -f "node_modules/uWebSockets.js/binaries/$keep" \
 && find node_modules/uWebSockets.js/binaries -name 'uws_*.node' ! -name "$keep" -delete

# The TypeScript build, with the dev dependencies (typescript) it needs.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY cli ./cli
COPY config ./config
COPY protocol ./protocol
COPY dev-cluster ./dev-cluster
COPY gateway/src ./gateway/src
COPY client/src ./client/src
COPY operator/src ./operator/src
COPY loadtest/src ./loadtest/src
RUN npx tsc -p tsconfig.json

# What both images share: production node_modules, the compiled dist/, a non-root user.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
# Fails the build if the CLI cannot load with production dependencies alone (a dev-only import, a missing file).
RUN node dist/cli/rtgw.js --help >/dev/null
# The image's `node` user (uid 1000), numeric so Kubernetes' runAsNonRoot can verify it. The files stay owned by
# root and read-only to it; nothing at runtime writes outside /tmp.
USER 1000:1000
ENTRYPOINT ["node", "dist/cli/rtgw.js"]

FROM runtime AS operator
LABEL org.opencontainers.image.title="realtime-gateway operator" \
      org.opencontainers.image.description="Kubernetes operator for RealtimeGateway fleets" \
      org.opencontainers.image.licenses="Apache-2.0"
# /healthz, /readyz and /metrics (cli/operator.ts: --metrics-port).
EXPOSE 8081
CMD ["operator"]

# Last, so a plain `docker build .` yields the gateway.
FROM runtime AS gateway
LABEL org.opencontainers.image.title="realtime-gateway gateway" \
      org.opencontainers.image.description="uWebSockets.js WebSocket gateway with Redis fan-out" \
      org.opencontainers.image.licenses="Apache-2.0"
# WebSocket + HTTP API (RTGW_PORT), Prometheus metrics (RTGW_METRICS_PORT).
EXPOSE 8080 9090
CMD ["gateway"]
