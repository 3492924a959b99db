# Sourced by the off-site benches: starts s3rver (tools/s3, installed by scripts/install-deps.sh) on a free
# loopback port with bucket `bench`, storing under $work/s3, and points the AWS variables at it. The caller
# defines $work and kills $s3pid in its EXIT trap.
# With s3_tls=1 set by the caller, s3rver serves https with a certificate (SAN IP:127.0.0.1) signed by a CA
# made here with the openssl CLI, as a MinIO behind a private CA: AWS_CA_BUNDLE names that CA, and
# curl_tls holds the same for curl (--cacert); both stay empty over http.
mkdir -p "$work/s3"
scheme=http; tls_args=(); curl_tls=()
if [[ ${s3_tls:-0} == 1 ]]; then
  mkdir -p "$work/tls"
  ( cd "$work/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=bench CA' \
      -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1'
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:false\nextendedKeyUsage=serverAuth\n' > ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf ) >/dev/null 2>&1 ||
    { echo "openssl could not make the bench CA (scripts/install-deps.sh installs openssl)" >&2; exit 1; }
  scheme=https; tls_args=(--key "$work/tls/server.key" --cert "$work/tls/server.pem"); curl_tls=(--cacert "$work/tls/ca.pem")
  export AWS_CA_BUNDLE="$work/tls/ca.pem"
fi
node --openssl-legacy-provider tools/s3/node_modules/s3rver/bin/s3rver.js -d "$work/s3" -a 127.0.0.1 -p 0 --silent "${tls_args[@]}" --configure-bucket bench > "$work/s3.out" 2>&1 &
s3pid=$!
for _ in $(seq 100); do grep -q listening "$work/s3.out" && break; sleep 0.1; done
port="$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/s3.out")"
[[ -n $port ]] || { echo "s3rver did not start: $(cat "$work/s3.out")" >&2; exit 1; }
export AWS_ENDPOINT_URL="$scheme://127.0.0.1:$port" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
