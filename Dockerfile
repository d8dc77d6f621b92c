# hooksd image: the compiled daemon, its production dependencies and nats-server.
#
#   docker build -t hooksd .
#   docker run --init -p 8080:8080 -v hooksd-data:/app/data \
#     -v "$PWD/my.config.yaml:/app/hooks.config.yaml:ro" -e HOOKSD_TOKEN=... hooksd
#
# Listening: inside a container the API must listen on 0.0.0.0 to be reachable through a
# published port, and hooksd only binds to a non-loopback address when server.auth.tokens
# are configured. The shipped hooks.config.yaml has no tokens and listens on 127.0.0.1, so
# the container runs (and its health check passes) but cannot be reached from outside: mount
# a config with `server.listen: 0.0.0.0:8080` and a token, as docker-compose.yml does.
#
# NATS: with no nats.servers in the config, hooksd runs the nats-server installed below,
# with its JetStream store under storage.path (/app/data).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends nats-server \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HOOKSD_CONFIG=/app/hooks.config.yaml
# Owned by root and read-only for the service; only the data folder is writable.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/hooks.config.yaml ./
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME /app/data
EXPOSE 8080
# Liveness: GET /healthz on the port server.listen names in $HOOKSD_CONFIG (on loopback when
# it listens on 0.0.0.0), so a config that moves the API to another port keeps the check right.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "bin/healthcheck.js"]
# The bin script's shebang runs node with hooksd's heap settings.
ENTRYPOINT ["bin/hooksd.js"]
CMD ["start"]
