#include "backup/targets/s3_target.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>
#include <regex>
#include <thread>

#include "backup/targets/s3_request.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"
#include "core/utc_time.h"

namespace facecrowd {
namespace {

std::string xml_unescape(std::string s) {
  static const std::pair<const char*, const char*> entities[] = {
      {"&quot;", "\""}, {"&apos;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#34;", "\""}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities)
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += std::strlen(to))
      s.replace(pos, std::strlen(from), to);
  return s;
}

std::string xml_tag(const std::string& body, const std::string& tag) {
  auto open = body.find("<" + tag + ">");
  if (open == std::string::npos) return "";
  open += tag.size() + 2;
  auto close = body.find("</" + tag + ">", open);
  return close == std::string::npos ? "" : xml_unescape(body.substr(open, close - open));
}

bool ok_status(long status) { return status >= 200 && status < 300; }

// S3's checksum headers carry the digest in base64, ours is hex.
std::string base64_of_hex(const std::string& hex) {
  std::vector<unsigned char> bin(hex.size() / 2);
  size_t n = 0;
  sodium_hex2bin(bin.data(), bin.size(), hex.data(), hex.size(), nullptr, &n, nullptr);
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bin.data(), n, sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

// Object Lock headers for an upload starting now (S3 requires a checksum header with them, added by the
// callers: the whole object's for a PUT, an algorithm for a multipart upload whose parts carry theirs).
std::vector<std::string> object_lock_headers(const S3Settings& s) {
  if (s.object_lock_days <= 0) return {};
  const UnixMillis until = now_millis() + UnixMillis(s.object_lock_days) * 86400000;
  return {"x-amz-object-lock-mode: " + s.object_lock_mode, "x-amz-object-lock-retain-until-date: " + format_iso8601(until)};
}

// Error for an unexpected answer: 404 is kNotFound (the object or upload is not there), anything else kIo,
// with S3's code and message. Two 404s are not about the object, and say what to do (kUsage, so that no
// caller takes them for a missing object: a missing index.json reads as "no backups here yet"): the bucket
// does not exist (NoSuchBucket), and a 404 that carries no S3 error at all (a web server, a wrong port).
[[noreturn]] void fail(const std::string& what, const S3Response& r) {
  const std::string answer = what + ": HTTP " + std::to_string(r.status) + " " + s3_error_text(r.body);
  if (r.status == 404 && r.body.find("<Code>NoSuchBucket</Code>") != std::string::npos)
    throw Error(ExitCode::kUsage, answer + ". facecrowd never creates a bucket: create it (e.g. `aws s3 mb s3://BUCKET`, or the "
                                           "store's console), or correct the target (`facecrowd target set`) or $AWS_ENDPOINT_URL");
  if (r.status == 404 && !r.body.empty() && r.body.find("<Code>") == std::string::npos)
    throw Error(ExitCode::kUsage, answer + " (not an S3 error: the endpoint does not answer as S3 does). Check $AWS_ENDPOINT_URL "
                                           "(or endpoint_url in ~/.aws/config): it must be the S3-compatible server's URL");
  throw Error(r.status == 404 ? ExitCode::kNotFound : ExitCode::kIo, answer);
}

// The sha256 of `length` bytes of `fd` from `offset`.
std::string hash_range(int fd, uint64_t offset, uint64_t length, const fs::path& file) {
  Sha256 sha;
  std::vector<char> buf(1 << 20);
  for (uint64_t done = 0; done < length;) {
    ssize_t n = ::pread(fd, buf.data(), size_t(std::min<uint64_t>(buf.size(), length - done)), off_t(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_io_error("cannot read file to upload", file, n < 0 ? errno : EIO);
    sha.update(buf.data(), size_t(n));
    done += uint64_t(n);
  }
  return sha.hex_digest();
}

// An ETag as S3 quotes it ("…"), without its quotes.
std::string unquoted(std::string etag) {
  std::erase(etag, '"');
  return etag;
}

// An answer's ETag header, without its quotes.
std::string etag_of(const S3Response& r) {
  auto it = r.headers.find("etag");
  return it == r.headers.end() ? "" : unquoted(it->second);
}

// The ETag of a single PUT stored without SSE-KMS or SSE-C is the MD5 of the bytes (32 hex digits); other
// ETags (multipart "…-N", encrypted with KMS) are opaque.
bool is_md5_etag(const std::string& etag) {
  return etag.size() == 32 && std::all_of(etag.begin(), etag.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

class FileDescriptor {
 public:
  explicit FileDescriptor(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw_io_error("cannot open file to upload", path, errno);
  }
  ~FileDescriptor() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

S3Target::S3Target(BucketLocation location, S3Settings settings)
    : location_(std::move(location)), settings_(std::move(settings)) {}

S3Target::~S3Target() = default;

S3Target::Lease::Lease(S3Target& target) : target_(target) {
  std::lock_guard lock(target.pool_mutex_);
  if (!target.idle_.empty()) {
    connection_ = std::move(target.idle_.back());
    target.idle_.pop_back();
  }
  if (!connection_) connection_ = std::make_unique<S3Connection>(target.settings_, target.location_);
}

S3Target::Lease::~Lease() {
  constexpr size_t kMaxIdle = 16;  // more than any parallel_parts in use keeps open sockets for nothing
  std::lock_guard lock(target_.pool_mutex_);
  if (target_.idle_.size() < kMaxIdle) target_.idle_.push_back(std::move(connection_));
}

std::string S3Target::full_key(const std::string& key) const {
  if (key.empty() || key.front() == '/' || key.find("..") != std::string::npos)
    throw Error(ExitCode::kUsage, "object name '" + key + "' is not a relative name inside target '" + url() + "'");
  return location_.prefix.empty() ? key : location_.prefix + "/" + key;
}

std::string S3Target::object_url(const std::string& key) const {
  S3Connection c(settings_, location_);
  return c.url_for(full_key(key), "");
}

S3Request S3Target::whole_object_put(const std::string& key, uint64_t size, const std::string& sha256) const {
  S3Request r;
  r.method = "PUT";
  r.key = full_key(key);
  r.length = size;
  r.payload_sha256 = sha256;
  r.headers = {"x-amz-meta-sha256: " + sha256};
  if (!settings_.storage_class.empty()) r.headers.push_back("x-amz-storage-class: " + settings_.storage_class);
  for (auto& h : object_lock_headers(settings_)) r.headers.push_back(std::move(h));
  if (settings_.object_lock_days > 0) r.headers.push_back("x-amz-checksum-sha256: " + base64_of_hex(sha256));
  return r;
}

ObjectInfo S3Target::put(const std::string& key, const fs::path& file, const std::string& known_sha256) {
  const std::string what = "upload of '" + file.filename().string() + "' to '" + url() + "/" + key + "'";
  FileDescriptor fd(file);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_io_error("cannot stat file to upload", file, errno);
  const uint64_t size = uint64_t(st.st_size);
  const bool multipart = size > settings_.multipart_threshold && settings_.part_size > 0;

  // The whole file's sha256 (its signature for a PUT, its metadata for either) is needed before the first
  // byte goes: S3 takes metadata only at the start of an upload. When the caller knows it, the file is not
  // read an extra time; the bytes are checked against it as they go instead. A multipart upload's parts are
  // hashed by its workers, each just before sending its part, so that hashing overlaps the transfer of the
  // other parts.
  const bool check = !known_sha256.empty();
  const std::string sha = check ? known_sha256 : hash_range(fd.get(), 0, size, file);
  if (multipart) return put_multipart(key, fd.get(), nullptr, size, sha, check, file);

  S3Request r = whole_object_put(key, size, sha);
  r.fd = fd.get();
  r.hash_sent = check;
  Lease c(*this);
  auto response = c->perform(r, what);
  // S3 itself refuses a body that does not match x-amz-content-sha256 (400 XAmzContentSHA256Mismatch);
  // an S3-compatible store may not check, so the bytes sent are compared here too.
  if (check && (ok_status(response.status) || response.status == 400) && response.sent_sha256 != sha) {
    if (ok_status(response.status)) {
      try {
        remove(key);
      } catch (const Error&) {  // the refusal below matters more; the index never names this object
      }
    }
    throw_changed_since_recorded(file, sha, response.sent_sha256, "'" + url() + "/" + key + "'");
  }
  if (!ok_status(response.status)) fail(what, response);
  return {key, size, sha, etag_of(response)};
}

ObjectInfo S3Target::put(const std::string& key, const UploadSource& source) {
  const std::string what = "upload of '" + source.name() + "' to '" + url() + "/" + key + "'";
  const uint64_t size = source.size();
  // Object Lock needs a checksum header with the request that stores the object, which a one-pass upload
  // cannot give before its first byte; a multipart upload's parts carry theirs, so a locked target gets one.
  if ((size > settings_.multipart_threshold && settings_.part_size > 0) || settings_.object_lock_days > 0)
    return put_multipart(key, -1, &source, size, "", false, source.name());
  // One pass: the payload is not signed (UNSIGNED-PAYLOAD) and carries no x-amz-meta-sha256, since neither
  // can be known before the bytes are made. The bytes' MD5 is computed as they go: S3's ETag of a single PUT
  // (without SSE-KMS or SSE-C) is the MD5 of the bytes it stored, so comparing the two is the in-transit
  // check that the signed payload hash used to be; and the MD5 is what the caller records (a download checks
  // it as the bytes arrive), not a sha256 of the same bytes (crypto/sealed_upload.cpp says why).
  S3Request r;
  r.method = "PUT";
  r.key = full_key(key);
  r.length = size;
  r.payload_sha256 = "UNSIGNED-PAYLOAD";
  if (!settings_.storage_class.empty()) r.headers.push_back("x-amz-storage-class: " + settings_.storage_class);
  r.source = &source;
  r.md5_sent = true;
  Lease c(*this);
  S3Response response;
  try {
    response = c->perform(r, what);
  } catch (const Error& e) {
    // S3 stores nothing from a request whose body stopped short. s3rver writes the body into the object's
    // file as it arrives and keeps what it got, without metadata: such a leftover (shorter than announced,
    // no sha256) is removed. A source stops before its last bytes when it refuses its input.
    if (e.code() == ExitCode::kBadInput) {
      try {
        if (auto left = stat(key); left && left->sha256.empty() && left->size < size) remove(key);
      } catch (const Error&) {  // the refusal matters more; the index never names this object
      }
    }
    throw;
  }
  if (!ok_status(response.status)) fail(what, response);
  const std::string etag = etag_of(response);
  if (is_md5_etag(etag) && etag != response.sent_md5) {
    try {
      remove(key);
    } catch (const Error&) {  // the refusal matters more; the index never names this object
    }
    throw Error(ExitCode::kIo, what + ": the server stored other bytes than were sent (ETag " + etag + ", MD5 of the bytes sent " +
                                   response.sent_md5 + "); the object was deleted. Run the push again");
  }
  return {key, size, "", etag, response.sent_md5};
}

ObjectInfo S3Target::put_multipart(const std::string& key, int fd, const UploadSource* source, uint64_t size,
                                   const std::string& sha256, bool check_sha256, const fs::path& file) {
  const std::string what = "multipart upload to '" + url() + "/" + key + "'";
  const std::string object = full_key(key);
  Lease control(*this);
  S3Request init;
  init.method = "POST";
  init.key = object;
  init.query = "uploads=";
  if (!sha256.empty()) init.headers = {"x-amz-meta-sha256: " + sha256};
  if (!settings_.storage_class.empty()) init.headers.push_back("x-amz-storage-class: " + settings_.storage_class);
  const bool locked = settings_.object_lock_days > 0;
  for (auto& h : object_lock_headers(settings_)) init.headers.push_back(std::move(h));
  if (locked) init.headers.push_back("x-amz-checksum-algorithm: SHA256");
  auto started = control->perform(init, what + " (start)");
  if (!ok_status(started.status)) fail(what + " (start)", started);
  const std::string upload_id = xml_tag(started.body, "UploadId");
  if (upload_id.empty()) throw Error(ExitCode::kIo, what + ": the server's answer to the start holds no UploadId");
  const std::string id_query = "uploadId=" + s3_query_encode(upload_id);
  // Recorded before the first part goes, so that a run killed from here on leaves a record the next push
  // aborts the upload by (multipart_journal.h); forgotten once the upload is completed or aborted.
  std::optional<fs::path> recorded;
  if (journal_) {
    try {
      recorded = journal_->record(url(), object, upload_id);
    } catch (const Error&) {  // not recorded: abort it now rather than risk parts no run would abort
      S3Request r;
      r.method = "DELETE";
      r.key = object;
      r.query = id_query;
      try {
        control->perform(r, what + " (abort)");
      } catch (const Error&) {
      }
      throw;
    }
  }
  auto forget = [&] {
    if (recorded) journal_->forget(*recorded);
  };

  const uint64_t part_size = multipart_part_size(size, settings_.part_size);
  const size_t parts = size_t((size + part_size - 1) / part_size);
  std::vector<std::string> etags(parts), part_sha(parts);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr first_error;
  // A source is read once, in order, by one reader: a worker takes the next part number and makes that
  // part's bytes under `produce_mutex`, hashing them into the whole object's sha256, then hashes, signs and
  // sends its part while the next worker makes the next part. A part that is retried is sent again from the
  // worker's memory, so no byte is made twice.
  std::mutex produce_mutex;
  std::unique_ptr<UploadReader> reader;
  Sha256 produced;
  auto worker = [&] {
    try {
      Lease c(*this);
      for (;;) {
        S3Request r;
        size_t i;
        {
          std::unique_lock lock(produce_mutex, std::defer_lock);
          if (source) lock.lock();
          if (failed || (i = next++) >= parts) break;
          r.offset = uint64_t(i) * part_size;
          r.length = std::min<uint64_t>(part_size, size - r.offset);
          if (source) {
            if (!reader) reader = source->open();
            r.body.resize(size_t(r.length));
            reader->read(r.body.data(), r.body.size());
            produced.update(r.body);
          }
        }
        r.method = "PUT";
        r.key = object;
        r.query = "partNumber=" + std::to_string(i + 1) + "&" + id_query;
        if (source) {
          // In memory (it must be hashed before it is sent: the part is signed with it).
          r.payload_sha256 = part_sha[i] = sha256_hex(r.body);
          r.offset = 0;
        } else {
          r.fd = fd;
          r.payload_sha256 = part_sha[i] = hash_range(fd, r.offset, r.length, file);
        }
        if (locked) r.headers = {"x-amz-checksum-sha256: " + base64_of_hex(part_sha[i])};
        std::string part_what = what + ", part " + std::to_string(i + 1) + " of " + std::to_string(parts);
        auto response = c->perform(r, part_what);
        if (!ok_status(response.status)) fail(part_what, response);
        auto etag = response.headers.find("etag");
        if (etag == response.headers.end()) throw Error(ExitCode::kIo, part_what + ": the answer holds no ETag");
        etags[i] = etag->second;
      }
    } catch (...) {
      std::lock_guard lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> threads;
  // The whole file as read now, on a thread of its own while the parts go up (check_sha256).
  std::string whole_sha;
  std::exception_ptr whole_error;
  if (check_sha256)
    threads.emplace_back([&] {
      try {
        whole_sha = hash_range(fd, 0, size, file);
      } catch (...) {
        whole_error = std::current_exception();
      }
    });
  const size_t n_threads = std::max<size_t>(1, std::min<size_t>(size_t(std::max(1, settings_.parallel_parts)), parts));
  for (size_t t = 0; t < n_threads; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  auto abort_upload = [&] {
    S3Request r;
    r.method = "DELETE";
    r.key = object;
    r.query = id_query;
    try {
      auto response = control->perform(r, what + " (abort)");
      const bool aborted = ok_status(response.status) || response.status == 404;
      if (aborted) forget();
      return aborted;
    } catch (const Error&) {
      return false;
    }
  };
  if (!first_error && whole_error) first_error = whole_error;
  if (!first_error && check_sha256 && whole_sha != sha256) {
    abort_upload();
    throw_changed_since_recorded(file, sha256, whole_sha, "'" + url() + "/" + key + "'");
  }
  if (first_error) {
    bool aborted = abort_upload();
    try {
      std::rethrow_exception(first_error);
    } catch (const Error& e) {
      throw Error(e.code(), std::string(e.what()) + (aborted ? "; the upload was aborted, no parts are left behind"
                                                             : "; aborting the upload failed too: parts of upload " +
                                                                   upload_id + " may remain in the bucket"));
    }
  }

  S3Request complete;
  complete.method = "POST";
  complete.key = object;
  complete.query = id_query;
  complete.body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < parts; ++i)
    complete.body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] + "</ETag>" +
                     (locked ? "<ChecksumSHA256>" + base64_of_hex(part_sha[i]) + "</ChecksumSHA256>" : "") + "</Part>";
  complete.body += "</CompleteMultipartUpload>";
  complete.payload_sha256 = sha256_hex(complete.body);
  S3Response done;
  try {
    done = control->perform(complete, what + " (complete)");
  } catch (const Error&) {
    abort_upload();
    throw;
  }
  // S3 may answer 200 and still report an error in the body.
  if (!ok_status(done.status) || done.body.find("<Error>") != std::string::npos) {
    abort_upload();
    fail(what + " (complete)", done);
  }
  forget();
  return {key, size, source ? produced.hex_digest() : sha256, unquoted(xml_tag(done.body, "ETag"))};
}

ObjectInfo S3Target::get(const std::string& key, const fs::path& file, const ExpectedDigests& expected) {
  const std::string what = "download of '" + url() + "/" + key + "'";
  fs::path partial = file;
  partial += ".partial-" + std::to_string(::getpid());
  // An object recorded by its MD5 alone (uploaded in one pass) carries no sha256 to check: only the MD5 is
  // computed. Any other download computes the sha256 (its own x-amz-meta-sha256, the caller's, the result).
  const bool want_sha256 = !expected.sha256.empty() || expected.md5.empty();
  const bool want_md5 = !expected.md5.empty();
  std::optional<OutputFile> out;
  std::optional<Sha256> sha;
  std::optional<Md5> md5;
  uint64_t size = 0;
  S3Request r;
  r.key = full_key(key);
  r.reset_sink = [&] {
    out.reset();
    out.emplace(partial);
    if (want_sha256) sha.emplace();
    if (want_md5) md5.emplace();
    size = 0;
  };
  r.sink = [&](const char* data, size_t n) {
    out->write(data, n);
    if (sha) sha->update(data, n);
    if (md5) md5->update(data, n);
    size += n;
  };
  try {
    Lease c(*this);
    auto response = c->perform(r, what);
    if (!ok_status(response.status)) fail(what, response);
    out->sync_and_close();
    const std::string got_sha = sha ? sha->hex_digest() : "", got_md5 = md5 ? md5->hex_digest() : "";
    auto refuse = [&](const char* digest, const std::string& got, const std::string& recorded) {
      throw Error(ExitCode::kBadInput, "object '" + key + "' in backup target '" + url() + "' is damaged: its " + digest + " is " +
                                           got + " but " + recorded + " was recorded when it was uploaded");
    };
    // The object's own x-amz-meta-sha256 (a file uploaded whole), and the caller's (the index's: an object
    // encrypted in one pass carries none).
    auto own = response.headers.find("x-amz-meta-sha256");
    if (sha)
      for (const std::string& recorded : {own == response.headers.end() ? std::string() : own->second, expected.sha256})
        if (!recorded.empty() && recorded != got_sha) refuse("sha256", got_sha, recorded);
    if (md5 && got_md5 != expected.md5) refuse("MD5", got_md5, expected.md5);
    rename_durably(partial, file);
    return {key, size, got_sha, etag_of(response), got_md5};
  } catch (...) {
    out.reset();
    std::error_code ec;
    fs::remove(partial, ec);
    throw;
  }
}

std::vector<ObjectInfo> S3Target::list(const std::string& prefix) {
  static const std::regex contents_re("<Contents>([\\s\\S]*?)</Contents>");
  const std::string what = "listing of '" + url() + "/" + prefix + "'";
  const std::string strip = location_.prefix.empty() ? "" : location_.prefix + "/";
  std::vector<ObjectInfo> out;
  Lease c(*this);
  std::string token;
  for (;;) {
    S3Request r;
    r.query = (token.empty() ? "" : "continuation-token=" + s3_query_encode(token) + "&") + "list-type=2&prefix=" +
              s3_query_encode(strip + prefix);
    auto response = c->perform(r, what);
    if (!ok_status(response.status)) fail(what, response);
    for (std::sregex_iterator it(response.body.begin(), response.body.end(), contents_re), end; it != end; ++it) {
      std::string block = (*it)[1];
      std::string key = xml_tag(block, "Key");
      if (key.rfind(strip, 0) != 0) continue;
      out.push_back({key.substr(strip.size()), std::stoull("0" + xml_tag(block, "Size")), ""});
    }
    if (xml_tag(response.body, "IsTruncated") != "true") break;
    token = xml_tag(response.body, "NextContinuationToken");
    if (token.empty()) break;
  }
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

void S3Target::remove(const std::string& key) {
  const std::string what = "deletion of '" + url() + "/" + key + "'";
  S3Request r;
  r.method = "DELETE";
  r.key = full_key(key);
  Lease c(*this);
  auto response = c->perform(r, what);
  if (!ok_status(response.status) && response.status != 404) fail(what, response);
}

std::optional<ObjectInfo> S3Target::stat(const std::string& key) {
  const std::string what = "looking up '" + url() + "/" + key + "'";
  S3Request r;
  r.method = "HEAD";
  r.key = full_key(key);
  Lease c(*this);
  auto response = c->perform(r, what);
  if (response.status == 404) return std::nullopt;
  if (!ok_status(response.status)) fail(what, response);
  ObjectInfo info{key, 0, ""};
  if (auto it = response.headers.find("content-length"); it != response.headers.end()) info.size = std::stoull("0" + it->second);
  if (auto it = response.headers.find("x-amz-meta-sha256"); it != response.headers.end()) info.sha256 = it->second;
  info.etag = etag_of(response);
  return info;
}

std::vector<std::string> S3Target::abort_interrupted_uploads() {
  std::vector<std::string> lines;
  if (!journal_) return lines;
  for (const auto& e : journal_->entries(lines)) {
    if (e.target != url()) continue;  // another target's: its own next push aborts it
    const std::string object = location_.scheme + "://" + location_.bucket + "/" + e.key;
    if (!location_.prefix.empty() && e.key.rfind(location_.prefix + "/", 0) != 0) {
      lines.push_back("the interrupted-upload record '" + e.file.string() + "' names '" + object + "', outside target '" + url() +
                      "'; it was left as it is");
      continue;
    }
    const std::string what = "abort of the multipart upload of '" + object + "' that an interrupted push left (upload " + e.upload_id + ")";
    S3Request r;
    r.method = "DELETE";
    r.key = e.key;
    r.query = "uploadId=" + s3_query_encode(e.upload_id);
    try {
      Lease c(*this);
      auto response = c->perform(r, what);
      // 404 (NoSuchUpload): completed or aborted already, or expired by a lifecycle rule; nothing is left.
      if (!ok_status(response.status) && response.status != 404) fail(what, response);
      journal_->forget(e.file);
      lines.push_back("aborted the multipart upload of '" + object + "' that an interrupted push left (upload " + e.upload_id +
                      "): its parts are deleted");
    } catch (const Error& err) {
      lines.push_back(std::string(err.what()) + "; the record is kept and the next push tries again");
    }
  }
  return lines;
}

uint64_t multipart_part_size(uint64_t object_size, uint64_t configured) {
  constexpr uint64_t kMaxParts = 10000, kMiB = 1 << 20;
  const uint64_t needed = (object_size + kMaxParts - 1) / kMaxParts;
  return std::max(configured, (needed + kMiB - 1) / kMiB * kMiB);
}

bool is_remote_target_name(const std::string& name) { return name.rfind("s3://", 0) == 0 || name.rfind("gs://", 0) == 0; }


}  // namespace facecrowd
