// Answers every request with 200 and an empty body, after appending {method, url, headers, body} as one JSON
// line to the file given as the first argument: the SigV4 tests read exactly what libcurl sent. Listens on
// 127.0.0.1, port printed as the first line of stdout.
'use strict';
const http = require('http');
const fs = require('fs');
const out = process.argv[2];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    fs.appendFileSync(out, JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }) + '\n');
    res.setHeader('etag', '"0"');
    res.end('<InitiateMultipartUploadResult><UploadId>x</UploadId></InitiateMultipartUploadResult>');
  });
});
server.listen(0, '127.0.0.1', () => { process.stdout.write(`${server.address().port}\n`); });
