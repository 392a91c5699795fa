# Not built in CI (no Docker engine there); kept correct by reading. See README "Packaging".
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (esbuild makes the JavaScript below; tsx runs the scripts/).
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/app/data
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends openssl curl && rm -rf /var/lib/apt/lists/* \
 && groupadd --system app && useradd --system --gid app --home /app app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
# The JavaScript that `npm start` runs (dist/), made here since the app user cannot write /app.
RUN node scripts/start.mjs --build \
 && mkdir -p /app/data && chown app:app /app/data
USER app
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/health/ready || exit 1
CMD ["node", "scripts/start.mjs"]
