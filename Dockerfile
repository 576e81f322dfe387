# edgepub container image.
#
#   docker build -t edgepub .
#   docker run --rm -p 8080:8080 -e EDGEPUB_ADMIN_TOKEN=... -v edgepub-data:/app/data edgepub
#
# Build stage -------------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /build

# Any sqlx::query! macros must compile from the checked-in .sqlx/ cache, never a live database.
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never

# Dependency-caching layer: build every dependency against dummy sources, so this layer is
# rebuilt only when Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src \
        target/release/edgepub target/release/edgepub.d \
        target/release/deps/edgepub-* target/release/deps/libedgepub-* \
        target/release/.fingerprint/edgepub-*

# The real sources. migrations/ must be present: sqlx::migrate! embeds it at compile time.
# (Everything not excluded by .dockerignore is copied, so build.rs, .sqlx/, openapi/ etc. are
# picked up if the crate starts to use them.)
COPY . .
RUN touch src/main.rs \
    && cargo build --release --locked --bin edgepub \
    && install -D -m 0755 target/release/edgepub /usr/local/bin/edgepub

# Runtime stage -----------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# Unpinned on purpose: bookworm point releases replace old package versions.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 edgepub \
    && useradd --system --uid 10001 --gid edgepub --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin edgepub \
    && mkdir -p /app/data /app/sites \
    && chown -R edgepub:edgepub /app

COPY --from=builder /usr/local/bin/edgepub /usr/local/bin/edgepub

WORKDIR /app
ENV EDGEPUB_LISTEN=0.0.0.0:8080 \
    EDGEPUB_DATA_DIR=/app/data
# Declared after the chown above so a fresh named volume inherits edgepub:edgepub ownership.
VOLUME ["/app/data", "/app/sites"]

# hadolint ignore=DL3066
USER edgepub
EXPOSE 8080

# Assumes the default port; adjust if EDGEPUB_LISTEN is overridden. Shell form so any curl
# failure maps to exit 1 (the only "unhealthy" code Docker documents).
# hadolint ignore=DL3025
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1

ENTRYPOINT ["/usr/local/bin/edgepub"]
CMD ["serve"]
