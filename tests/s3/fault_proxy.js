// A small HTTP proxy in front of s3rver that injects the faults the backup-target tests need. It listens on
// 127.0.0.1 (port 0: the kernel picks one; the port is printed as the first line of stdout) and forwards to
// --upstream PORT. Faults are set at run time by POST /__fault with a JSON body (fields below), and every
// request it saw is returned by GET /__log (method, url, headers, and the number of the TCP connection it
// came on). Nothing here is sent anywhere but loopback.
//
//   {"status": 503, "count": 2, "match": "PUT"}        answer the next 2 matching requests with 503
//   {"cut_after": 65536, "count": 1, "match": "PUT"}   read 64 KiB of the next matching request body,
//                                                      then destroy the connection (dropped mid-upload)
//   {"cut_response_after": 65536, "count": 1, "match": "GET"}  forward the next matching request, pass on
//                                                      64 KiB of the answer's body, then destroy the
//                                                      connection (dropped mid-download)
//   {"delay_ms": 300, "count": 5}                      wait before forwarding each of the next 5 requests
//   {"stall": true, "count": 1}                        accept the next request and never answer
//   {"status": 400, "echo_token": true}                answer with an error whose message quotes the request's
//                                                      x-amz-security-token (a server echoing a credential)
//   {"flip_byte_at": 1000, "count": 1, "match": "PUT"} forward the next matching request with one bit of
//                                                      its body's byte 1000 flipped (damaged in transit)
//   {"status": 404, "body": "<html>…</html>"}          answer with that body instead of an S3 error document
//                                                      (a web server that is not S3, e.g. a wrong port)
//   {"clear": true}                                    no faults
// "match" is a substring of "METHOD URL" (e.g. "partNumber=2"); absent: every request.
//
// s3rver 3.7.1 does not implement AbortMultipartUpload (DELETE ?uploadId=…); the proxy answers it the way
// S3 does: it deletes the upload's stored parts (<s3rver dir>/<bucket>/.s3rver_uploads or similar, found by
// the upload id) and answers 204, so a test can prove that no orphan parts are left.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const arg = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const upstream = Number(arg('--upstream'));
const storeDir = arg('--store');
let faults = [];
const log = [];

function findDir(root, name) {
  let found = null;
  const walk = (d) => {
    if (found) return;
    let entries = [];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch (e) { return; }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(d, e.name);
      if (e.name === name) { found = p; return; }
      walk(p);
    }
  };
  walk(root);
  return found;
}

function takeFault(req) {
  const what = `${req.method} ${req.url}`;
  for (const f of faults) {
    if (f.count > 0 && (!f.match || what.includes(f.match))) { f.count -= 1; return f; }
  }
  return null;
}

const server = http.createServer((req, res) => {
  if (req.url === '/__fault' && req.method === 'POST') {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const f = JSON.parse(body);
      if (f.clear) faults = []; else faults.push(Object.assign({ count: 1 }, f));
      res.end('ok');
    });
    return;
  }
  if (req.url === '/__log') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(log)); return; }
  log.push({ method: req.method, url: req.url, headers: req.headers, connection: req.socket.connectionNumber });

  const m = /[?&]uploadId=([^&]+)/.exec(req.url);
  if (req.method === 'DELETE' && m) {
    const dir = storeDir ? findDir(storeDir, decodeURIComponent(m[1])) : null;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    res.statusCode = dir ? 204 : 404;
    res.end();
    return;
  }
  const fault = takeFault(req);
  if (fault && fault.status) {
    req.resume();
    req.on('end', () => {
      res.statusCode = fault.status;
      if (fault.body !== undefined) {
        res.setHeader('content-type', 'text/html');
        res.end(fault.body);
        return;
      }
      res.setHeader('content-type', 'application/xml');
      if (fault.echo_token) {  // an error document that quotes the session token it was sent
        const token = req.headers['x-amz-security-token'] || '';
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidToken</Code><Message>The provided token is malformed or otherwise invalid: ${token}</Message></Error>`);
        return;
      }
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InjectedFault</Code><Message>fault proxy answered ${fault.status}</Message></Error>`);
    });
    return;
  }
  if (fault && fault.stall) { req.resume(); return; }
  if (fault && fault.cut_after !== undefined) {
    let seen = 0;
    req.on('data', (c) => {
      seen += c.length;
      if (seen >= fault.cut_after) req.socket.destroy();
    });
    req.on('end', () => req.socket.destroy());
    return;
  }
  const forward = () => {
    const up = http.request({ host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      if (fault && fault.cut_response_after !== undefined) {
        let sent = 0;
        ur.on('data', (c) => {
          if (sent >= fault.cut_response_after) return;
          const part = c.subarray(0, fault.cut_response_after - sent);
          sent += part.length;
          res.write(part);
          if (sent >= fault.cut_response_after) res.socket.destroy();
        });
        return;
      }
      ur.pipe(res);
    });
    up.on('error', () => req.socket.destroy());
    if (fault && fault.flip_byte_at !== undefined) {
      let seen = 0;
      req.on('data', (c) => {
        const at = fault.flip_byte_at - seen;
        if (at >= 0 && at < c.length) c[at] ^= 1;
        seen += c.length;
        up.write(c);
      });
      req.on('end', () => up.end());
      return;
    }
    req.pipe(up);
  };
  if (fault && fault.delay_ms) { req.pause(); setTimeout(() => { req.resume(); forward(); }, fault.delay_ms); } else forward();
});
// Each TCP connection is numbered in the log ("connection"), so a test can see requests share one.
let connections = 0;
server.on('connection', (socket) => { connections += 1; socket.connectionNumber = connections; });
server.listen(0, '127.0.0.1', () => { process.stdout.write(`${server.address().port}\n`); });
