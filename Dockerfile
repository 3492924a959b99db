# facecrowd in a container: the runbook's disaster-recovery step ("docker-compose up + restore latest").
# Builds the binary on Debian 12 with scripts/install-deps.sh (the same packages as a bare machine), then a
# runtime image with only the libraries it links. NOT built or run on the development machines (no Docker
# engine there): scripts/dr-drill.sh is the tested recovery path, and this image runs the same commands.
#
#   docker build -t facecrowd .
#   docker compose run --rm restore        # empty volumes <- s3://…/latest (docker-compose.yml)
#   docker compose run --rm drill          # the drill with RTO/RPO into a scratch directory
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN apt-get update && bash scripts/install-deps.sh && scripts/build.sh

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libsqlite3-0 libbson-1.0-0 libarchive13 libsodium23 libturbojpeg0 libcurl4 libspdlog1.10 libfmt9 \
      libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 libopencv-dnn406 libxml2 ca-certificates python3-minimal \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/facecrowd /usr/local/bin/facecrowd
COPY --from=build /src/scripts/dr-drill.sh /usr/local/bin/dr-drill.sh
ENV FACECROWD_DATA=/var/lib/facecrowd/data FACECROWD_BACKUP_DIR=/var/lib/facecrowd/backup
VOLUME ["/var/lib/facecrowd"]
ENTRYPOINT ["facecrowd"]
CMD ["--help"]
