# syntax=docker/dockerfile:1
# recpipe streaming job image. Both stages use the same base so the Kafka client's native addon,
# compiled in the build stage, links against exactly the runtime stage's libraries.
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
# The Kafka client (@confluentinc/kafka-javascript) builds librdkafka from source here and links it
# dynamically against these -dev libraries; the runtime stage carries their matching runtime libs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential python3 pkg-config ca-certificates \
      zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV CKJS_LINKING=dynamic
# Dependencies first: this layer is reused as long as the lockfile does not change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY pipeline ./pipeline
COPY operators ./operators
COPY records ./records
COPY sinks ./sinks
COPY kafka ./kafka
COPY stream ./stream
COPY features ./features
COPY push ./push
COPY privacy ./privacy
COPY stack ./stack
COPY models ./models
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libssl3 libsasl2-2 libzstd1 liblz4-1 libcurl4 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Root owns the code; the job runs as the image's unprivileged `node` user and never writes here.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY examples ./examples
# In a container /metrics must be reachable from Prometheus on the compose network, not just loopback.
# MALLOC_MMAP_THRESHOLD_ fixes glibc's threshold at its default (128 KiB): otherwise each freed
# large typed array (models and feature panes grow theirs by copying) raises it, later ones come
# from the heap, and the freed copies stay in RSS: about 600 B of RSS per distinct id on
# bench/id-memory.ts (docs/BENCHMARKS.md, "Memory per distinct id"; issue 12).
# --max-semi-space-size: a larger young generation, so the per-event garbage dies there instead
# of being promoted (about 10 % less CPU on a shop-like replay; docs/operations.md, "Memory").
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=64 \
    RECPIPE_HTTP_HOST=0.0.0.0 \
    RECPIPE_HTTP_PORT=9464 \
    MALLOC_MMAP_THRESHOLD_=131072
USER node
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) makes the job stop consuming, flush its sinks and commit before exiting.
STOPSIGNAL SIGTERM
CMD ["node", "bin/recpipe.js", "run"]
