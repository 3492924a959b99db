#include "backup/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <memory>
#include <vector>

#include "backup/strict_gzip_reader.h"
#include "core/display_text.h"
#include "core/error.h"

namespace facecrowd {
namespace {

constexpr size_t kChunk = 1 << 20;

Error bad(const fs::path& source, const std::string& why) {
  return Error(ExitCode::kBadInput, "backup '" + source.string() + "': " + why);
}

// libarchive's message for its last error; archive_error_string() returns NULL when none was set.
std::string libarchive_reason(archive* a) {
  const char* text = archive_error_string(a);
  if (text && *text) return text;
  int err = archive_errno(a);
  return err > 0 ? std::string("libarchive error: ") + std::strerror(err) : std::string("libarchive gave no reason");
}

void require_exists(const fs::path& input) {
  std::error_code ec;
  if (!fs::exists(input, ec)) throw Error(ExitCode::kNotFound, "backup '" + input.string() + "' does not exist");
}

// Streams one regular file to the sink in chunks (works for FIFOs too).
void stream_file(const fs::path& file, const std::string& member, MemberSink& sink, ReadSummary& summary) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io_error("cannot open backup file", file, errno);
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  std::error_code ec;
  uint64_t size = fs::is_regular_file(file, ec) ? fs::file_size(file, ec) : 0;
  sink.begin_member(member, size);
  std::vector<char> buf(kChunk);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_io_error("cannot read backup file", file, errno);
    if (n == 0) break;
    sink.member_data(buf.data(), size_t(n));
    summary.bytes += uint64_t(n);
  }
  sink.end_member();
  summary.members++;
}

// Feeds libarchive's tar reader from a StrictGzipReader. Errors cannot be thrown through libarchive
// (C code), so the callback keeps the Error and failure() rethrows it.
class TarSource {
 public:
  explicit TarSource(const fs::path& file) : file_(file), gzip_(file) {
    for (auto& b : buffers_) b.data.resize(kChunk);
  }

  static la_ssize_t on_read(archive* a, void* self, const void** out) {
    auto* source = static_cast<TarSource*>(self);
    try {
      Buffer& b = source->buffers_[source->next_];
      source->next_ ^= 1;  // libarchive may still look at the previous buffer until this call
      b.start = source->handed_;
      b.size = source->gzip_.read(b.data.data(), b.data.size());
      source->handed_ += b.size;
      *out = b.data.data();
      return la_ssize_t(b.size);
    } catch (const Error& e) {
      source->error_ = e;
    } catch (const std::exception& e) {
      source->error_ = Error(ExitCode::kInternal, std::string("reading '") + source->file_.string() + "': " + e.what());
    }
    archive_set_error(a, EIO, "%s", source->error_->what());
    return -1;
  }

  // The error to throw after libarchive reported a failure while `doing`: the gzip layer's own error when
  // there is one, else libarchive's message (which may be missing: libarchive leaves it NULL on some paths).
  Error failure(archive* a, const std::string& doing) const {
    if (error_) return *error_;
    return bad(file_, doing + ": " + libarchive_reason(a));
  }

  // After the tar end-of-archive marker (libarchive consumed `consumed` bytes of tar), the rest of the
  // decompressed stream must be zero padding; reading it to the end also checks the gzip trailer.
  void require_only_padding_after(uint64_t consumed) {
    for (const auto& b : buffers_) {
      uint64_t from = std::max(consumed, b.start);
      for (uint64_t i = from; i < b.start + b.size; ++i)
        if (b.data[size_t(i - b.start)] != 0) refuse_data_after_end(i);
    }
    std::vector<char> rest(kChunk);
    for (;;) {
      uint64_t start = gzip_.decompressed_bytes();
      size_t n = gzip_.read(rest.data(), rest.size());
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i)
        if (rest[i] != 0) refuse_data_after_end(start + i);
    }
  }

 private:
  struct Buffer {
    std::vector<char> data;
    uint64_t start = 0;  // decompressed offset of data[0]
    size_t size = 0;
  };
  [[noreturn]] void refuse_data_after_end(uint64_t offset) const {
    throw bad(file_, "non-zero data at decompressed byte " + std::to_string(offset) +
                         ", after the tar end-of-archive marker (two tar archives joined, or garbage inside the "
                         "gzip stream); an archive holds one tar stream");
  }

  fs::path file_;
  StrictGzipReader gzip_;
  Buffer buffers_[2];
  int next_ = 0;
  uint64_t handed_ = 0;
  std::optional<Error> error_;
};

}  // namespace

BackupShape detect_backup_shape(const fs::path& input) {
  std::error_code ec;
  if (fs::is_directory(input, ec)) return BackupShape::kFolder;
  std::string name = input.filename().string();
  if (name.size() > 5 && name.substr(name.size() - 5) == ".bson") return BackupShape::kBsonFile;
  return BackupShape::kArchive;
}

const char* shape_name(BackupShape shape) {
  switch (shape) {
    case BackupShape::kArchive: return "archive";
    case BackupShape::kFolder: return "folder";
    case BackupShape::kBsonFile: return "bson file";
  }
  return "?";
}

void require_safe_member_path(const std::string& path, const std::string& where) {
  auto refuse = [&](const std::string& why) {
    throw Error(ExitCode::kBadInput, where + ": unsafe member name '" + shortened(path, 120) + "' (" + why + ")");
  };
  if (path.empty()) refuse("empty");
  if (path.front() == '/') refuse("absolute path");
  if (path.find('\\') != std::string::npos) refuse("backslash");
  size_t start = 0;
  std::string trimmed = path.back() == '/' ? path.substr(0, path.size() - 1) : path;  // directory entries
  while (start <= trimmed.size()) {
    size_t slash = trimmed.find('/', start);
    std::string part = trimmed.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty()) refuse("empty component");
    if (part == "..") refuse("'..' component");
    if (part == ".") refuse("'.' component");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

ReadSummary read_archive(const fs::path& archive_path, MemberSink& sink) {
  require_exists(archive_path);
  TarSource source(archive_path);
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  if (!a) throw Error(ExitCode::kInternal, "libarchive could not start a reader");
  // No libarchive filter: StrictGzipReader does the gzip layer (and checks it), libarchive only the tar.
  archive_read_support_format_tar(a.get());
  if (archive_read_open(a.get(), &source, nullptr, &TarSource::on_read, nullptr) != ARCHIVE_OK)
    throw source.failure(a.get(), "cannot open as tar.gz");

  ReadSummary summary;
  std::string last_member = "(start of archive)";
  bool manifest_seen = false;
  std::vector<char> buf(kChunk);
  for (;;) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN || !entry) throw source.failure(a.get(), "truncated or corrupt after member '" + last_member + "'");
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = raw_name ? raw_name : "";
    std::string where = "backup '" + archive_path.string() + "'";
    require_safe_member_path(name, where);
    std::string top = name.substr(0, name.find('/'));
    if (summary.top_folder.empty()) {
      if (top.rfind("backup_", 0) != 0)
        throw bad(archive_path, "member '" + shortened(name, 120) + "' is not under a backup_<db>_<time>/ top folder");
      summary.top_folder = top;
    } else if (top != summary.top_folder) {
      throw bad(archive_path, "member '" + shortened(name, 120) + "' is outside the top folder '" + shortened(summary.top_folder, 120) + "/'");
    }
    auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) continue;
    if (type != AE_IFREG) throw bad(archive_path, "member '" + shortened(name, 120) + "' is not a regular file (links are refused)");
    if (name.size() <= top.size() + 1)
      throw bad(archive_path, "member '" + shortened(name, 120) + "' is a file where the top folder should be");
    if (manifest_seen)
      throw bad(archive_path, "member '" + shortened(name, 120) + "' follows manifest.json, which must be the last member");
    if (archive_entry_size_is_set(entry) && archive_entry_size(entry) < 0)
      throw bad(archive_path, "member '" + shortened(name, 120) + "' has a negative size in its tar header");
    std::string member = name.substr(top.size() + 1);
    if (member == "manifest.json") manifest_seen = true;
    last_member = name;
    sink.begin_member(member, archive_entry_size_is_set(entry) ? uint64_t(archive_entry_size(entry)) : 0);
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) throw source.failure(a.get(), "truncated or corrupt inside member '" + shortened(name, 120) + "'");
      if (n == 0) break;
      sink.member_data(buf.data(), size_t(n));
      summary.bytes += uint64_t(n);
    }
    sink.end_member();
    summary.members++;
  }
  if (summary.members == 0) throw bad(archive_path, "the archive holds no files");
  // The tar end-of-archive marker was read; what follows must be zero padding, then the gzip trailer.
  source.require_only_padding_after(uint64_t(archive_filter_bytes(a.get(), 0)));
  return summary;
}

ReadSummary read_folder(const fs::path& folder, MemberSink& sink) {
  require_exists(folder);
  ReadSummary summary;
  summary.top_folder = folder.filename().string();
  if (summary.top_folder.empty()) summary.top_folder = folder.parent_path().filename().string();
  std::vector<fs::path> top_files, db_dirs;
  for (const auto& entry : fs::directory_iterator(folder)) {
    auto status = entry.symlink_status();
    if (fs::is_directory(status)) db_dirs.push_back(entry.path());
    else if (fs::is_regular_file(status)) top_files.push_back(entry.path());
    else throw bad(folder, "'" + entry.path().filename().string() + "' is not a regular file or folder");
  }
  // manifest.json first: in a folder it can be read before the data, so a restore knows the plan early.
  std::sort(top_files.begin(), top_files.end(), [](const fs::path& a, const fs::path& b) {
    bool am = a.filename() == "manifest.json", bm = b.filename() == "manifest.json";
    return am != bm ? am : a < b;
  });
  std::sort(db_dirs.begin(), db_dirs.end());
  for (const auto& file : top_files) stream_file(file, file.filename().string(), sink, summary);
  for (const auto& dir : db_dirs) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!fs::is_regular_file(entry.symlink_status()))
        throw bad(folder, "'" + dir.filename().string() + "/" + entry.path().filename().string() +
                              "' is not a regular file");
      files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files)
      stream_file(file, dir.filename().string() + "/" + file.filename().string(), sink, summary);
  }
  return summary;
}

ReadSummary read_bson_file(const fs::path& file, const std::string& db, const std::string& collection,
                           MemberSink& sink) {
  require_exists(file);
  ReadSummary summary;
  stream_file(file, db + "/" + collection + ".bson", sink, summary);
  return summary;
}

}  // namespace facecrowd
