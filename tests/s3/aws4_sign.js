// Signs one request with the pinned npm `aws4` package (an independent SigV4 implementation) and prints the
// Authorization header. Input: a JSON file {host, method, path, headers, body, region, accessKeyId,
// secretAccessKey} where path includes the query string exactly as sent. The body is left out on purpose:
// the signed x-amz-content-sha256 header carries its hash (which the test checks against the body), and a
// body would make aws4 add Content-Type/Content-Length headers that the request did not have.
'use strict';
const aws4 = require(require('path').join(__dirname, '../../tools/s3/node_modules/aws4'));
const r = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const signed = aws4.sign({ host: r.host, method: r.method, path: r.path, headers: r.headers, body: '',
                           service: 's3', region: r.region },
                         { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey });
process.stdout.write(signed.headers.Authorization + '\n');
