#include "backup/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <vector>

#include "core/error.h"

namespace facecrowd {
namespace {

constexpr size_t kChunk = 1 << 20;

Error bad(const fs::path& source, const std::string& why) {
  return Error(ExitCode::kBadInput, "backup '" + source.string() + "': " + why);
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
    throw Error(ExitCode::kBadInput, where + ": unsafe member name '" + path + "' (" + why + ")");
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
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), archive_path.c_str(), kChunk) != ARCHIVE_OK)
    throw bad(archive_path, std::string("cannot open as tar.gz: ") + archive_error_string(a.get()));

  ReadSummary summary;
  std::string last_member = "(start of archive)";
  bool manifest_seen = false;
  std::vector<char> buf(kChunk);
  for (;;) {
    archive_entry* entry = nullptr;
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN)
      throw bad(archive_path, "truncated or corrupt after member '" + last_member + "': " + archive_error_string(a.get()));
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = raw_name ? raw_name : "";
    std::string where = "backup '" + archive_path.string() + "'";
    require_safe_member_path(name, where);
    std::string top = name.substr(0, name.find('/'));
    if (summary.top_folder.empty()) {
      if (top.rfind("backup_", 0) != 0)
        throw bad(archive_path, "member '" + name + "' is not under a backup_<db>_<time>/ top folder");
      summary.top_folder = top;
    } else if (top != summary.top_folder) {
      throw bad(archive_path, "member '" + name + "' is outside the top folder '" + summary.top_folder + "/'");
    }
    auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) continue;
    if (type != AE_IFREG) throw bad(archive_path, "member '" + name + "' is not a regular file (links are refused)");
    if (name.size() <= top.size() + 1)
      throw bad(archive_path, "member '" + name + "' is a file where the top folder should be");
    if (manifest_seen)
      throw bad(archive_path, "member '" + name + "' follows manifest.json, which must be the last member");
    std::string member = name.substr(top.size() + 1);
    if (member == "manifest.json") manifest_seen = true;
    last_member = name;
    sink.begin_member(member, archive_entry_size_is_set(entry) ? uint64_t(archive_entry_size(entry)) : 0);
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0)
        throw bad(archive_path, "truncated or corrupt inside member '" + name + "': " + archive_error_string(a.get()));
      if (n == 0) break;
      sink.member_data(buf.data(), size_t(n));
      summary.bytes += uint64_t(n);
    }
    sink.end_member();
    summary.members++;
  }
  if (summary.members == 0) throw bad(archive_path, "the archive holds no files");
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
