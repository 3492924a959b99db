#include "backup/targets/s3_request.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <thread>

#include "core/error.h"
#include "core/sha256.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

const std::string kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// libcurl's upload buffer (CURLOPT_UPLOAD_BUFFERSIZE; its default is 64 KiB, its maximum 2 MiB).
constexpr long kUploadBufferBytes = 1 << 20;

// The hashes of a request body (S3Request::hash_sent, md5_sent), computed on a thread of its own from copies
// of the pieces sent, so that hashing (sha256 and MD5 together: about 2 ns a byte) overlaps making and sending
// the bytes instead of adding to the sending thread's time. At most kPending pieces wait (8 MiB); the sender
// waits for room beyond that.
class BodyHasher {
 public:
  BodyHasher(bool sha256, bool md5) {
    if (sha256) sha_.emplace();
    if (md5) md5_.emplace();
    thread_ = std::thread([this] { run(); });
  }
  ~BodyHasher() { stop(); }
  BodyHasher(const BodyHasher&) = delete;
  BodyHasher& operator=(const BodyHasher&) = delete;

  void add(const char* data, size_t n) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return pending_.size() < kPending; });
    std::string piece;
    if (!spare_.empty()) {
      piece = std::move(spare_.back());
      spare_.pop_back();
    }
    piece.assign(data, n);
    pending_.push_back(std::move(piece));
    ready_.notify_one();
  }
  // Waits for every piece to be hashed; then the digests (hex; "" for one not asked for).
  void finish(std::string& sha256, std::string& md5) {
    stop();
    if (sha_) sha256 = sha_->hex_digest();
    if (md5_) md5 = md5_->hex_digest();
  }

 private:
  static constexpr size_t kPending = 8;
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [&] { return !pending_.empty() || done_; });
      if (pending_.empty()) return;
      std::string piece = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      if (sha_) sha_->update(piece.data(), piece.size());
      if (md5_) md5_->update(piece.data(), piece.size());
      lock.lock();
      spare_.push_back(std::move(piece));
      room_.notify_one();
    }
  }
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    ready_.notify_one();
    thread_.join();
  }
  std::optional<Sha256> sha_;
  std::optional<Md5> md5_;
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<std::string> pending_;
  std::vector<std::string> spare_;
  bool done_ = false;
  std::thread thread_;
};

struct Transfer {
  const S3Request* request;
  S3Response* response;
  std::optional<BodyHasher> hasher;  // S3Request::hash_sent or md5_sent
  uint64_t sent = 0;
  std::unique_ptr<UploadReader> reader;  // S3Request::source, opened at the first read of each attempt
  std::exception_ptr sink_error, source_error;
  int read_errno = 0;
  void hash(const char* data, size_t n) {
    if (hasher) hasher->add(data, n);
  }
};

size_t on_read(char* buffer, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const S3Request& r = *t->request;
  size_t want = size * nitems;
  if (!r.body.empty()) {
    size_t n = std::min<size_t>(want, r.body.size() - t->sent);
    std::memcpy(buffer, r.body.data() + t->sent, n);
    t->hash(buffer, n);
    t->sent += n;
    return n;
  }
  uint64_t left = r.length - t->sent;
  if (left == 0) return 0;
  if (r.source) {
    size_t n = size_t(std::min<uint64_t>(want, left));
    try {
      if (!t->reader) t->reader = r.source->open();
      t->reader->read(buffer, n);
    } catch (...) {
      t->source_error = std::current_exception();  // never send short or other bytes: abort the request
      return CURL_READFUNC_ABORT;
    }
    t->hash(buffer, n);
    t->sent += n;
    return n;
  }
  for (;;) {
    ssize_t n = ::pread(r.fd, buffer, std::min<uint64_t>(want, left), off_t(r.offset + t->sent));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      t->read_errno = n < 0 ? errno : EIO;  // the file shrank or failed: abort, never send short
      return CURL_READFUNC_ABORT;
    }
    t->hash(buffer, size_t(n));
    t->sent += uint64_t(n);
    return size_t(n);
  }
}

size_t on_write(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  // Error bodies (4xx/5xx) are collected for the message, never written to the caller's file.
  if (t->request->sink && t->response->status >= 200 && t->response->status < 300) {
    try {
      t->request->sink(data, n);
    } catch (...) {
      t->sink_error = std::current_exception();
      return 0;  // aborts the transfer
    }
    return n;
  }
  if (t->response->body.size() < (1u << 20)) t->response->body.append(data, n);
  return n;
}

size_t on_header(char* data, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * nitems);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();
    auto sp = line.find(' ');
    if (sp != std::string::npos) t->response->status = std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return size * nitems;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos) return size * nitems;
  std::string name = line.substr(0, colon);
  for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
  std::string value = line.substr(colon + 1);
  auto b = value.find_first_not_of(" \t");
  auto e = value.find_last_not_of(" \t\r\n");
  t->response->headers[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  return size * nitems;
}

bool retryable_status(long status) { return status == 500 || status == 502 || status == 503 || status == 504 || status == 429; }

bool retryable_curl(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST: case CURLE_SEND_ERROR: case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE: case CURLE_OPERATION_TIMEDOUT: case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2: case CURLE_HTTP2_STREAM: case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

// The server's certificate did not verify (unknown CA, expired, wrong name) or the CA file is unusable:
// trying again cannot help, and the operator needs the remedy at once, not after minutes of backoff.
bool tls_trust_failure(CURLcode code) {
  return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_ISSUER_ERROR ||
         code == CURLE_SSL_PINNEDPUBKEYNOTMATCH || code == CURLE_SSL_INVALIDCERTSTATUS;
}

}  // namespace

std::string s3_uri_encode(const std::string& text, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(char(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string s3_error_text(const std::string& body) {
  static const std::regex code_re("<Code>([^<]*)</Code>"), message_re("<Message>([^<]*)</Message>");
  std::smatch code, message;
  if (std::regex_search(body, code, code_re)) {
    std::string out = code[1];
    if (std::regex_search(body, message, message_re)) out += ": " + std::string(message[1]);
    return out;
  }
  std::string head = body.substr(0, 200);
  for (auto& c : head)
    if (c == '\n' || c == '\r') c = ' ';
  return head.empty() ? "(no body)" : head;
}

S3Connection::S3Connection(const S3Settings& settings, const BucketLocation& location)
    : settings_(settings), location_(location) {
  global_init();
  curl_ = curl_easy_init();
  if (!curl_) throw Error(ExitCode::kInternal, "libcurl could not create a handle");
}

S3Connection::~S3Connection() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

std::string S3Connection::url_for(const std::string& key, const std::string& query) const {
  std::string scheme_end = "://";
  auto pos = settings_.endpoint.find(scheme_end);
  std::string scheme = settings_.endpoint.substr(0, pos + scheme_end.size());
  std::string host = settings_.endpoint.substr(pos + scheme_end.size());
  std::string url = settings_.path_style ? settings_.endpoint + "/" + location_.bucket
                                         : scheme + location_.bucket + "." + host;
  url += "/" + s3_uri_encode(key, true);
  if (!query.empty()) url += "?" + query;
  return url;
}

S3Response S3Connection::attempt(const S3Request& r, std::string& transport_error, bool& retryable) {
  CURL* h = static_cast<CURL*>(curl_);
  curl_easy_reset(h);
  S3Response response;
  Transfer t{&r, &response};
  if (r.hash_sent || r.md5_sent) t.hasher.emplace(r.hash_sent, r.md5_sent);
  const std::string url = url_for(r.key, r.query);
  const std::string sigv4 = "aws:amz:" + settings_.region + ":s3";
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, settings_.credentials.access_key_id.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, settings_.credentials.secret_access_key.reveal().c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, settings_.connect_timeout_s);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, settings_.stall_timeout_s);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  // A private CA ($AWS_CA_BUNDLE / ca_bundle): set on every request, since curl_easy_reset clears it.
  // Peer and host verification stay on (curl's defaults); nothing here can turn them off.
  if (!settings_.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, settings_.ca_bundle.c_str());
  char error_detail[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_detail);

  struct curl_slist* headers = nullptr;
  auto add = [&](const std::string& line) { headers = curl_slist_append(headers, line.c_str()); };
  add("x-amz-content-sha256: " + (r.payload_sha256.empty() ? kEmptySha256 : r.payload_sha256));
  if (!settings_.credentials.session_token.empty()) {
    std::string line = "x-amz-security-token: " + settings_.credentials.session_token.reveal();
    add(line);
    wipe_string(line);
  }
  for (const auto& line : r.headers) add(line);
  // No "Expect:" override: curl signs every header the caller lists, and an empty Expect would be signed
  // but not sent (tests/sigv4_test.cpp found it). curl's own "Expect: 100-continue" is not signed.

  const bool has_body = !r.body.empty() || r.fd >= 0 || r.source;
  if (r.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferBytes);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(has_body ? (r.body.empty() ? r.length : r.body.size()) : 0));
  } else if (r.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(r.body.size()));
    // Always an explicit type: curl 7.88 signs content-type on a POST even when the header is suppressed,
    // which S3 would reject (SignedHeaders names a header the request lacks).
    add("Content-Type: application/xml");
  } else if (r.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (r.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  struct curl_slist* connect_to = nullptr;
  for (const auto& c : settings_.connect_to) connect_to = curl_slist_append(connect_to, c.c_str());
  if (connect_to) curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);

  if (r.reset_sink) r.reset_sink();
  CURLcode code = curl_easy_perform(h);
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  if (t.sink_error) std::rethrow_exception(t.sink_error);
  if (t.source_error) std::rethrow_exception(t.source_error);
  if (t.read_errno) throw_io_error("cannot read the file being uploaded (it shrank or failed) for", r.key, t.read_errno);
  if (code != CURLE_OK) {
    transport_error = curl_easy_strerror(code);
    retryable = retryable_curl(code);
    if (tls_trust_failure(code)) {
      const std::string detail = error_detail[0] ? std::string(error_detail) : transport_error;
      transport_error = "the TLS certificate of endpoint " + settings_.endpoint + " was not trusted (" + detail + "). " +
                        (settings_.ca_bundle.empty()
                             ? std::string("If the endpoint uses a private CA, give its CA certificate (PEM) in $AWS_CA_BUNDLE "
                                           "or as ca_bundle in the AWS config file's profile")
                             : "The CA bundle '" + settings_.ca_bundle + "' (" + settings_.ca_bundle_setting +
                                   ") does not vouch for it: give the CA that signed the endpoint's certificate") +
                        "; certificate verification is never turned off";
      retryable = false;
    }
    response.status = 0;
    return response;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  if (t.hasher) t.hasher->finish(response.sent_sha256, response.sent_md5);
  retryable = retryable_status(response.status);
  if (retryable) transport_error = "HTTP " + std::to_string(response.status) + " " + s3_error_text(response.body);
  return response;
}

namespace {

// A server's answer to a failed request can echo what it was sent (a proxy's debug page, an error document
// quoting the request): the secret access key and the session token never reach a message through it.
void redact_credentials(std::string& text, const S3Credentials& c) {
  for (const Secret* s : {&c.secret_access_key, &c.session_token}) {
    if (s->size() < 4) continue;  // too short to tell from ordinary text (and no real credential is)
    for (size_t pos; (pos = text.find(s->reveal())) != std::string::npos;) text.replace(pos, s->size(), Secret::kRedacted);
  }
}

}  // namespace

S3Response S3Connection::perform(const S3Request& request, const std::string& what) {
  thread_local std::mt19937 rng{std::random_device{}()};
  int wait_ms = settings_.backoff_ms;
  std::string last_error;
  int attempt_no = 1;
  for (;; ++attempt_no) {
    bool retryable = false;
    std::string transport_error;
    S3Response response = attempt(request, transport_error, retryable);
    response.attempts = attempt_no;
    // Only an error's body becomes text in a message; a success's is data (the index, an object's bytes).
    if (response.status < 200 || response.status >= 300) redact_credentials(response.body, settings_.credentials);
    redact_credentials(transport_error, settings_.credentials);
    if (transport_error.empty()) return response;
    last_error = transport_error;
    if (!retryable || attempt_no >= settings_.max_attempts) break;
    std::uniform_int_distribution<int> jitter(0, std::max(1, wait_ms / 2));
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms + jitter(rng)));
    wait_ms *= 2;
  }
  throw Error(ExitCode::kIo, what + ": " + last_error + " (" + counted(attempt_no, "attempt") +
                                 "; endpoint " + settings_.endpoint + ")");
}

}  // namespace facecrowd
