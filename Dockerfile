# optimizer-decider: a release build on Swift 6 (Debian bookworm), run on a slim bookworm runtime.
FROM swift:6.1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config librdkafka-dev libsimdjson-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so source edits do not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product optimizer-decider \
    && install -D .build/release/optimizer-decider /out/optimizer-decider

FROM debian:bookworm-slim
# librdkafka is the only shared library beyond libc; curl serves the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends librdkafka1 libstdc++6 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin decider \
    && install -d -o 10001 -g 10001 /var/lib/optimizer-decider
COPY --from=build /out/optimizer-decider /usr/local/bin/optimizer-decider
COPY examples/rules.yaml /etc/optimizer-decider/rules.yaml
USER 10001
# Inside a container the metrics endpoint must be reachable from outside it; the binary's own default
# stays loopback.
ENV DECIDER_METRICS_ADDRESS=0.0.0.0:9464 \
    DECIDER_RULES=/etc/optimizer-decider/rules.yaml \
    DECIDER_LOG_FORMAT=json
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:9464/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["optimizer-decider", "run"]
