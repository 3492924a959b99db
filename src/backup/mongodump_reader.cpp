#include "backup/mongodump_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <bson/bson.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>

#include "backup/archive_reader.h"
#include "backup/bson_document_framer.h"
#include "backup/mongodump_archive_format.h"
#include "backup/mongodump_byte_source.h"
#include "backup/strict_gzip_reader.h"
#include "core/error.h"
#include "core/files.h"

namespace facecrowd {
namespace {

constexpr size_t kChunk = 1 << 20;
constexpr uint64_t kMaxMetadataJsonBytes = 16u << 20;
constexpr int kMaxFolderDepth = 4;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string archive_file_in_folder(const std::string& file) {
  return "'" + file + "' is a single-file `mongodump --archive` stream, not a collection's .bson: import it by itself "
         "(`facecrowd import " + file + "`)";
}

// The first bytes of a gzip stream, inflated (empty when they do not inflate).
std::string inflate_prefix(const unsigned char* p, size_t n) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return {};
  std::string out(64, '\0');
  z.next_in = const_cast<unsigned char*>(p);
  z.avail_in = uInt(n);
  z.next_out = reinterpret_cast<unsigned char*>(out.data());
  z.avail_out = uInt(out.size());
  inflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

// Streaming gunzip of one member (exactly one gzip stream, nothing after it).
class Gunzip {
 public:
  explicit Gunzip(std::string what) : what_(std::move(what)) {
    if (inflateInit2(&z_, 15 + 16) != Z_OK) throw Error(ExitCode::kInternal, "zlib could not be initialised");
  }
  ~Gunzip() { inflateEnd(&z_); }

  void feed(const char* data, size_t size, const std::function<void(const char*, size_t)>& out) {
    if (size == 0) return;
    if (ended_) throw Error(ExitCode::kBadInput, what_ + ": bytes after the end of the gzip stream (corrupt)");
    z_.next_in = reinterpret_cast<unsigned char*>(const_cast<char*>(data));
    z_.avail_in = uInt(size);
    while (z_.avail_in > 0 && !ended_) {
      z_.next_out = reinterpret_cast<unsigned char*>(buf_);
      z_.avail_out = sizeof buf_;
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
        throw Error(ExitCode::kBadInput, what_ + ": not a valid gzip stream (" + std::string(z_.msg ? z_.msg : "zlib error") + ")");
      out(buf_, sizeof buf_ - z_.avail_out);
      if (rc == Z_STREAM_END) ended_ = true;
      if (rc == Z_BUF_ERROR && z_.avail_out == sizeof buf_) break;
    }
    if (ended_ && z_.avail_in > 0) throw Error(ExitCode::kBadInput, what_ + ": bytes after the end of the gzip stream (corrupt)");
  }
  void finish() {
    if (!ended_) throw Error(ExitCode::kBadInput, what_ + ": truncated gzip stream (it ends before the gzip trailer)");
  }

 private:
  std::string what_;
  z_stream z_{};
  bool ended_ = false;
  char buf_[1 << 16];
};

// What a member is, by its name.
enum class MemberKind { kBson, kBsonGz, kMetadata, kMetadataGz, kOther };
struct MemberName {
  MemberKind kind = MemberKind::kOther;
  std::string db, collection;
};
MemberName classify(const std::string& path) {
  fs::path p(path);
  std::string file = p.filename().string();
  std::string db = p.parent_path().filename().string();
  MemberName m;
  auto take = [&](const std::string& suffix, MemberKind kind) {
    if (!ends_with(file, suffix) || file.size() == suffix.size()) return false;
    m = {kind, db, file.substr(0, file.size() - suffix.size())};
    return true;
  };
  if (take(".metadata.json.gz", MemberKind::kMetadataGz) || take(".metadata.json", MemberKind::kMetadata) ||
      take(".bson.gz", MemberKind::kBsonGz) || take(".bson", MemberKind::kBson)) {
    // oplog.bson at the top of a dump (--oplog) has no db folder: it is not a collection.
    if (m.db.empty() || file == "oplog.bson") return MemberName{};
    return m;
  }
  return m;
}

// Receives members and stages the ones it understands.
class Stager {
 public:
  Stager(MongoDump& dump, fs::path staging) : dump_(dump), staging_(std::move(staging)) {}

  void begin(const std::string& path, uint64_t size) {
    what_ = "'" + dump_.source + "', " + path;
    name_ = classify(path);
    member_ = path;
    if (name_.kind == MemberKind::kOther) {
      dump_.ignored.push_back(path);
      return;
    }
    if (name_.kind == MemberKind::kMetadata && size > kMaxMetadataJsonBytes)
      throw Error(ExitCode::kBadInput, what_ + ": " + std::to_string(size) + " bytes is too large for a metadata file (limit 16 MiB)");
    if (name_.kind == MemberKind::kBsonGz || name_.kind == MemberKind::kMetadataGz) gunzip_.emplace(what_);
    if (name_.kind == MemberKind::kBson || name_.kind == MemberKind::kBsonGz) {
      if (staged_.count(key())) throw Error(ExitCode::kBadInput, what_ + ": collection " + key() + " appears twice in the dump");
      fs::path dir = staging_ / std::to_string(dump_.collections.size());
      fs::create_directory(dir);
      staged_file_ = dir / "documents.bson";
      framer_.emplace(what_, staged_file_);
    } else {
      text_.clear();
    }
  }

  void data(const char* p, size_t n) {
    if (name_.kind == MemberKind::kOther) return;
    auto sink = [&](const char* d, size_t k) {
      if (framer_) {
        framer_->feed(d, k);
      } else {
        text_.append(d, k);
        if (text_.size() > kMaxMetadataJsonBytes)
          throw Error(ExitCode::kBadInput, what_ + ": too large for a metadata file (limit 16 MiB)");
      }
    };
    if (gunzip_) gunzip_->feed(p, n, sink);
    else sink(p, n);
  }

  void end() {
    if (name_.kind == MemberKind::kOther) return;
    if (gunzip_) gunzip_->finish();
    gunzip_.reset();
    if (framer_) {
      framer_->finish();
      DumpCollection c;
      c.db = name_.db;
      c.name = name_.collection;
      c.member = member_;
      c.staged = staged_file_;
      c.bytes = framer_->bytes();
      c.documents = framer_->documents();
      c.gzipped = name_.kind == MemberKind::kBsonGz;
      if (auto it = metadata_.find(key()); it != metadata_.end()) c.metadata = it->second;
      staged_[key()] = dump_.collections.size();
      dump_.collections.push_back(std::move(c));
      dump_.databases.insert(name_.db);
      dump_.bytes += framer_->bytes();
      framer_.reset();
      return;
    }
    nlohmann::json j = nlohmann::json::parse(text_, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw Error(ExitCode::kBadInput, what_ + ": not a JSON object (a mongodump metadata file holds {\"options\", \"indexes\", …})");
    if (auto it = staged_.find(key()); it != staged_.end()) dump_.collections[it->second].metadata = j;
    else metadata_[key()] = std::move(j);
  }

 private:
  std::string key() const { return name_.db + "/" + name_.collection; }
  MongoDump& dump_;
  fs::path staging_;
  std::string what_, member_;
  MemberName name_;
  std::optional<Gunzip> gunzip_;
  std::optional<DocumentFramer> framer_;
  fs::path staged_file_;
  std::string text_;
  std::map<std::string, size_t> staged_;
  std::map<std::string, nlohmann::json> metadata_;
};

// ---- tar archives (a file or standard input) ----

struct LibarchiveFeed {
  ByteSource* source;
  std::string prefix;  // peeked bytes handed out first
  std::vector<char> buffer = std::vector<char>(kChunk);
  std::optional<Error> error;

  static la_ssize_t on_read(archive*, void* self, const void** out) {
    auto* f = static_cast<LibarchiveFeed*>(self);
    try {
      if (!f->prefix.empty()) {
        size_t n = std::min(f->prefix.size(), f->buffer.size());
        std::memcpy(f->buffer.data(), f->prefix.data(), n);
        f->prefix.erase(0, n);
        *out = f->buffer.data();
        return la_ssize_t(n);
      }
      *out = f->buffer.data();
      return la_ssize_t(f->source->read(f->buffer.data(), f->buffer.size()));
    } catch (const Error& e) {
      f->error = e;
      return -1;
    }
  }
};

std::string libarchive_reason(archive* a) {
  const char* text = archive_error_string(a);
  if (text && *text) return text;
  return "libarchive gave no reason";
}

void read_tar(ByteSource& source, const std::string& label, Stager& stager);

// Peeks at the stream: the --archive format (plain or gzipped) or a tar (any compression).
void read_stream(ByteSource& source, const std::string& label, bool source_is_gunzipped, Stager& stager, MongoDump& dump,
                 const fs::path& staging) {
  std::string head(4096, '\0');
  size_t got = 0;
  while (got < head.size()) {
    size_t n = source.read(head.data() + got, head.size() - got);
    if (n == 0) break;
    got += n;
  }
  head.resize(got);
  auto* p = reinterpret_cast<const unsigned char*>(head.data());
  if (got == 0) throw Error(ExitCode::kBadInput, "'" + label + "' is empty: not a mongodump");
  if (starts_with_archive_magic(p, got)) {
    dump.shape += " (mongodump --archive)";
    PrefixedSource all(std::move(head), source);
    read_mongodump_archive(all, label, dump, staging);
    return;
  }
  if (got >= 2 && p[0] == 0x1f && p[1] == 0x8b && !source_is_gunzipped) {
    std::string inner = inflate_prefix(p, got);
    if (starts_with_archive_magic(reinterpret_cast<const unsigned char*>(inner.data()), inner.size())) {
      dump.shape += " (mongodump --archive --gzip)";
      PrefixedSource all(std::move(head), source);
      GunzipSource gunzipped(all, label);
      read_mongodump_archive(gunzipped, label, dump, staging);
      return;
    }
  }
  PrefixedSource all(std::move(head), source);
  read_tar(all, label, stager);
}

void read_tar(ByteSource& source, const std::string& label, Stager& stager) {
  LibarchiveFeed feed{&source, {}};
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), &archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open(a.get(), &feed, nullptr, &LibarchiveFeed::on_read, nullptr) != ARCHIVE_OK) {
    if (feed.error) throw *feed.error;
    throw Error(ExitCode::kBadInput, "'" + label + "' is not a tar archive of a mongodump (" + libarchive_reason(a.get()) +
                                         "); give the dump's folder, a .tar.gz of it, or - for a tar stream on stdin");
  }
  std::vector<char> buf(kChunk);
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (feed.error) throw *feed.error;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
      throw Error(ExitCode::kBadInput, "'" + label + "' is not a readable tar archive of a mongodump (" +
                                           libarchive_reason(a.get()) + "): truncated or corrupt?");
    std::string path = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    while (ends_with(path, "/")) path.pop_back();
    while (path.rfind("./", 0) == 0) path.erase(0, 2);
    auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR) continue;
    require_safe_member_path(path, "archive '" + label + "'");
    if (type != AE_IFREG)
      throw Error(ExitCode::kBadInput, "archive '" + label + "', member '" + path + "': not a regular file (links and devices are refused)");
    stager.begin(path, archive_entry_size_is_set(e) ? uint64_t(archive_entry_size(e)) : 0);
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) {
        if (feed.error) throw *feed.error;
        throw Error(ExitCode::kBadInput, "archive '" + label + "', member '" + path + "': " + libarchive_reason(a.get()) +
                                             " (truncated or corrupt)");
      }
      stager.data(buf.data(), size_t(n));
    }
    stager.end();
  }
  if (feed.error) throw *feed.error;
}

void read_folder_tree(const fs::path& root, const fs::path& dir, int depth, Stager& stager, MongoDump& dump) {
  std::vector<fs::directory_entry> entries;
  for (const auto& e : fs::directory_iterator(dir)) entries.push_back(e);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.path() < b.path(); });
  // Metadata first, so each collection gets its metadata when staged.
  std::stable_partition(entries.begin(), entries.end(), [](const auto& e) {
    return e.path().filename().string().find(".metadata.json") != std::string::npos;
  });
  for (const auto& e : entries) {
    std::string rel = fs::relative(e.path(), root).string();
    if (e.is_symlink()) {
      dump.ignored.push_back(rel + " (a symbolic link: not followed)");
      continue;
    }
    if (e.is_directory()) {
      if (depth < kMaxFolderDepth) read_folder_tree(root, e.path(), depth + 1, stager, dump);
      continue;
    }
    if (!e.is_regular_file()) {
      dump.ignored.push_back(rel + " (not a regular file)");
      continue;
    }
    // Members are named relative to the folder's parent, so a db folder given directly keeps its db name.
    std::string member = (root.filename() / fs::relative(e.path(), root)).string();
    if (classify(member).kind == MemberKind::kOther) {
      dump.ignored.push_back(rel);
      continue;
    }
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_io_error("cannot open dump file", e.path(), errno);
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    std::vector<char> buf(kChunk);
    stager.begin(member, e.file_size());
    FdSource src(fd, e.path().string());
    bool first = true;
    for (;;) {
      size_t n = src.read(buf.data(), buf.size());
      if (n == 0) break;
      if (first && starts_with_archive_magic(reinterpret_cast<unsigned char*>(buf.data()), n))
        throw Error(ExitCode::kBadInput, archive_file_in_folder(e.path().string()));
      first = false;
      stager.data(buf.data(), n);
    }
    stager.end();
  }
}

}  // namespace

const DumpCollection* MongoDump::find(const std::string& db, const std::string& name) const {
  for (const auto& c : collections)
    if (c.db == db && c.name == name) return &c;
  return nullptr;
}

MongoDump stage_mongodump(const std::string& input, const fs::path& staging) {
  MongoDump dump;
  dump.source = input == "-" ? "standard input" : input;
  Stager stager(dump, staging);
  if (input == "-") {
    dump.shape = "stdin";
    FdSource src(STDIN_FILENO, "standard input");
    read_stream(src, dump.source, false, stager, dump, staging);
    return dump;
  }
  std::error_code ec;
  fs::path path(input);
  if (!fs::exists(path, ec)) throw Error(ExitCode::kNotFound, "dump '" + input + "' does not exist");
  if (fs::is_directory(path, ec)) {
    dump.shape = "folder";
    fs::path root = fs::canonical(path, ec);
    if (ec) root = path;
    read_folder_tree(root, root, 0, stager, dump);
    if (dump.collections.empty())
      throw Error(ExitCode::kBadInput, "folder '" + input + "' holds no <db>/<collection>.bson files (is it the folder `mongodump --out` wrote?)");
    return dump;
  }
  if (!fs::is_regular_file(path, ec))
    throw Error(ExitCode::kBadInput, "dump '" + input + "' is not a regular file or a folder (use - to read a tar stream from stdin)");
  dump.shape = "archive";
  unsigned char magic[2] = {0, 0};
  {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_io_error("cannot open dump", path, errno);
    ssize_t n = ::read(fd, magic, 2);
    ::close(fd);
    if (n < 0) throw_io_error("cannot read dump", path, errno);
  }
  if (magic[0] == 0x1f && magic[1] == 0x8b) {
    GzipFileSource src(path);
    read_stream(src, input, true, stager, dump, staging);
  } else {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_io_error("cannot open dump", path, errno);
    std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
    FdSource src(fd, input);
    read_stream(src, input, false, stager, dump, staging);
  }
  if (dump.collections.empty())
    throw Error(ExitCode::kBadInput, "archive '" + input + "' holds no <db>/<collection>.bson members (is it a mongodump --out folder packed with tar?)");
  return dump;
}

}  // namespace facecrowd
