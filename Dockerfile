# The service as docker-compose.yml runs it: compiled once here, then plain node on the JavaScript.

# Build: every dependency (typescript is a dev one), then tsc into dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts are needed (esbuild ships its binary as a package; the rest are testcontainers' optional addons).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY db db
RUN npm run build

# Run: runtime dependencies only (no tsx, no typescript) and the compiled service.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist dist
# Without DATABASE_URL the service keeps an embedded database in ./data, which the node user must own.
RUN mkdir data && chown node:node data
USER node
EXPOSE 3000
# Node itself, not npm: a stop signal goes straight to the service, which closes gracefully.
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "dist/src/main.js"]
