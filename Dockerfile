# facecrowd in a container: the runbook's disaster-recovery step ("docker-compose up + restore latest").
# Builds the binary on Debian 12 with scripts/install-deps.sh (the same packages as a bare machine), then a
# runtime image with only the packages of the libraries it loads. Built and run on a development machine with
# podman 4.3 (Debian's; no Docker engine runs there): the image restores from an S3 bucket into an empty
# volume and runs the drill. scripts/dr-drill.sh on the host stays the path CI tests.
#
#   docker build -t facecrowd .
#   docker compose run --rm restore        # empty volumes <- s3://…/latest (docker-compose.yml)
#   docker compose run --rm drill          # the drill with RTO/RPO into a scratch directory
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN apt-get update && bash scripts/install-deps.sh \
    && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    && cmake --build build --target facecrowd -j "$(nproc)"   # the binary and its image codecs module; the tests run in CI
# The runtime image installs exactly the Debian packages that own the libraries the binary and its image codecs
# module (facecrowd-imgcodecs.so, dlopen()ed when a command touches pixels) load (a list written by hand
# missed cpp-httplib's).
RUN ldd build/facecrowd build/facecrowd-imgcodecs.so | awk '$3 ~ /^\// {print $3}' | sort -u | while read -r lib; do \
      dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || dpkg -S "${lib#/usr}"; \
    done | cut -d: -f1 | sort -u > runtime-packages.txt && cat runtime-packages.txt

FROM debian:12-slim
# python3 (not python3-minimal, which has no json module): scripts/dr-drill.sh reads facecrowd's JSON.
COPY --from=build /src/runtime-packages.txt /tmp/
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /tmp/runtime-packages.txt) ca-certificates python3 \
    && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt
# The binary looks for facecrowd-imgcodecs.so beside itself (its real path, after symlinks): both live in
# /usr/local/lib/facecrowd, and the command on PATH is a link.
COPY --from=build /src/build/facecrowd /src/build/facecrowd-imgcodecs.so /usr/local/lib/facecrowd/
RUN ln -s /usr/local/lib/facecrowd/facecrowd /usr/local/bin/facecrowd
COPY --from=build /src/scripts/dr-drill.sh /usr/local/bin/dr-drill.sh
# Fails the build when a library the binary or the module needs is missing (the module is loaded only by
# commands that touch pixels, so --version alone would not notice).
RUN facecrowd --version && ! ldd /usr/local/lib/facecrowd/facecrowd-imgcodecs.so | grep "not found"
ENV FACECROWD_DATA=/var/lib/facecrowd/data FACECROWD_BACKUP_DIR=/var/lib/facecrowd/backup
VOLUME ["/var/lib/facecrowd"]
ENTRYPOINT ["facecrowd"]
CMD ["--help"]
