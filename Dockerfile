# Gatehouse in a container. Two stages:
#   build:   the workspace installed and built with pnpm, each package packed into a tarball
#            (pnpm pack rewrites workspace ranges, exactly what a registry would serve);
#   runtime: node:20-slim with only the tarballs installed by npm (--omit=dev) and the app,
#            run by a non-root user. No compiler, pnpm, sources or dev dependencies.
# The app is copied from APP_DIR (default: the hello example); its directory must hold app.js,
# and may hold a package.json whose dependencies are installed beside Gatehouse:
#   docker build -t my-app --build-arg APP_DIR=path/to/app .
#   docker run --rm -p 8000:8000 my-app
# scripts/pack-check.mjs runs the runtime stage's steps (pack, npm install --omit=dev, this CMD)
# on every test run, so they are checked where no docker engine is available.

FROM node:20-slim AS build
WORKDIR /src
COPY . .
RUN npx --yes pnpm@10.34.8 install --frozen-lockfile \
 && npx --yes pnpm@10.34.8 build \
 && npx --yes pnpm@10.34.8 --recursive --filter './packages/*' pack --pack-destination /tarballs

FROM node:20-slim AS runtime
ARG APP_DIR=examples/hello
ENV NODE_ENV=production
RUN groupadd --system --gid 10001 gatehouse \
 && useradd --system --uid 10001 --gid gatehouse --no-create-home gatehouse
WORKDIR /app
COPY ${APP_DIR}/ /app/
COPY --from=build /tarballs /tmp/tarballs
RUN [ -f package.json ] || echo '{ "name": "app", "private": true, "type": "module" }' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/tarballs/*.tgz \
 && npm cache clean --force \
 && rm -rf /tmp/tarballs
ENV PATH=/app/node_modules/.bin:$PATH
USER gatehouse
EXPOSE 8000
# Readiness answered by the server itself (--health-path), never by the app.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# gatehouse (PID 1) stops gracefully on the SIGTERM of `docker stop`.
CMD ["gatehouse", "app.js", "--bind", "0.0.0.0:8000", "--health-path", "/healthz", "--workers", "auto"]
