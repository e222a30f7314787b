# syntax=docker/dockerfile:1
# Tessera in a container: built with the Rust toolchain, run from a
# distroless image (glibc and CA certificates, no shell, no package
# manager) as a non-root user. The SQLite database, if used, lives in the
# volume /var/lib/tessera; with PostgreSQL the container keeps nothing.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The caches keep the registry and the build between image builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin tessera \
    && install -D --strip target/release/tessera /out/tessera \
    && mkdir -p /out/data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/tessera /usr/local/bin/tessera
# An empty folder owned by the runtime user (uid 65532) becomes the volume.
COPY --from=build --chown=65532:65532 /out/data /var/lib/tessera
USER 65532:65532
WORKDIR /var/lib/tessera
VOLUME ["/var/lib/tessera"]
ENV TESSERA_BIND=0.0.0.0:8080 \
    TESSERA_DATABASE_URL=sqlite:///var/lib/tessera/tessera.db?mode=rwc \
    TESSERA_LOG_FORMAT=json
EXPOSE 8080
# Ready means the database answers; `tessera healthcheck` probes /readyz on
# TESSERA_BIND (the image has no curl).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/tessera", "healthcheck"]
# SIGTERM drains requests in flight within --shutdown-timeout (30 s by
# default): give `docker stop` a little longer (`--time 35`).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tessera"]
CMD ["serve"]
