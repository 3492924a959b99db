# Sourced by the off-site benches: starts s3rver (tools/s3, installed by scripts/install-deps.sh) on a free
# loopback port with bucket `bench`, storing under $work/s3, and points the AWS variables at it. The caller
# defines $work and kills $s3pid in its EXIT trap.
mkdir -p "$work/s3"
node --openssl-legacy-provider tools/s3/node_modules/s3rver/bin/s3rver.js -d "$work/s3" -a 127.0.0.1 -p 0 --silent --configure-bucket bench > "$work/s3.out" 2>&1 &
s3pid=$!
for _ in $(seq 100); do grep -q listening "$work/s3.out" && break; sleep 0.1; done
port="$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/s3.out")"
[[ -n $port ]] || { echo "s3rver did not start: $(cat "$work/s3.out")" >&2; exit 1; }
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
