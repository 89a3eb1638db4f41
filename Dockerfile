# Build the single foreman binary with npm + Bun, then run it alone in a small image.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# .git is not sent to the build (.dockerignore), so pass the commit: --build-arg FOREMAN_COMMIT=$(git rev-parse --short HEAD)
ARG FOREMAN_COMMIT=unknown
RUN FOREMAN_COMMIT=$FOREMAN_COMMIT npm run build

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home /var/lib/foreman foreman \
 && mkdir -p /var/lib/foreman && chown foreman /var/lib/foreman
COPY --from=build /src/dist/foreman /usr/local/bin/foreman
USER foreman
ENV FOREMAN_ADDR=:8080 \
    FOREMAN_DB_PATH=/var/lib/foreman/foreman.db \
    FOREMAN_OLLAMA_URL=http://host.docker.internal:11434
VOLUME /var/lib/foreman
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["foreman", "healthcheck"]
ENTRYPOINT ["foreman"]
CMD ["serve"]
