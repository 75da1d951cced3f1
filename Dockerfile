# cqrsd in a container: built with the repo's own scripts on Debian 12, run
# from a slim runtime stage that has only the shared libraries it links.
#
#   docker build -t cqrsd .
#   docker run -p 8080:8080 -v cqrsd-data:/var/lib/cqrsd cqrsd
#   docker run -p 8080:8080 -e CQRSD_WRITE_TOKEN=secret cqrsd   # writes need a token

# -- build stage --------------------------------------------------------------
FROM debian:12 AS build

WORKDIR /src
COPY . .
# A build/ or data/ folder copied from the host would clash with this one.
RUN rm -rf build data \
 && bash scripts/deps.sh \
 && JOBS="$(nproc)" bash scripts/build.sh cqrsd

# -- runtime stage ------------------------------------------------------------
FROM debian:12

# The runtime packages behind the -dev packages of scripts/deps.sh.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcaf-core0.17 libcaf-io0.17 libcaf-openssl0.17 \
      libsoci-core4.0 libsoci-sqlite3-4.0 libsoci-postgresql4.0 \
      libsqlite3-0 libpq5 \
      libcpp-httplib0.11 libssl3 zlib1g libbrotli1 \
      libyaml-cpp0.7 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/cqrsd --shell /usr/sbin/nologin cqrsd \
 && install -d -o cqrsd -g cqrsd /var/lib/cqrsd

COPY --from=build /src/build/cqrsd /usr/local/bin/cqrsd
# The web pages, /docs (Swagger UI, from npm at build time) and /console:
# cqrsd finds them at ../share/cqrsd/web from its own folder.
COPY --from=build /src/build/web /usr/local/share/cqrsd/web
COPY config/docker.yaml /etc/cqrsd/cqrsd.yaml
# No write token unless the container is started with one.
ENV CQRSD_WRITE_TOKEN=""
# Fail the build, not the first start, if a shared library is missing, the
# shipped configuration does not validate, or Swagger UI is not in place.
RUN ! ldd /usr/local/bin/cqrsd | grep 'not found' \
 && /usr/local/bin/cqrsd --check-config /etc/cqrsd/cqrsd.yaml \
 && test -f /usr/local/share/cqrsd/web/docs/swagger-ui-bundle.js \
 && test -f /usr/local/share/cqrsd/web/console/index.html
USER cqrsd
WORKDIR /var/lib/cqrsd
VOLUME ["/var/lib/cqrsd"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD curl -fsS http://127.0.0.1:8080/readyz >/dev/null || exit 1
# SIGTERM (docker stop) drains in-flight requests, then cqrsd exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/cqrsd"]
CMD ["--config", "/etc/cqrsd/cqrsd.yaml"]
