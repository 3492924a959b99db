#include "core/files.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace facecrowd {

void fsync_path(const fs::path& path) { file_system().sync_path(path); }

void rename_durably(const fs::path& from, const fs::path& to) { file_system().rename_durably(from, to); }

void write_file_durably(const fs::path& path, std::string_view content) {
  file_system().write_atomically(path, content);
}

void append_line_durably(const fs::path& path, std::string_view line) { file_system().append_line(path, line); }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_io_error("cannot read", path, errno ? errno : ENOENT);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ensure_writable_dir(const fs::path& dir, const std::string& purpose) {
  // A file where the folder should be reads as "File exists" from mkdir, which hides which is wrong.
  std::error_code exists_ec;
  if (fs::exists(dir, exists_ec) && !fs::is_directory(dir, exists_ec))
    throw Error(ExitCode::kIo, purpose + " '" + dir.string() + "' is a file, not a folder: give a folder there (or "
                                   "move the file away); nothing was written");
  try {
    file_system().create_dirs(dir);
  } catch (const Error& e) {
    throw Error(ExitCode::kIo, "cannot create " + purpose + " '" + dir.string() + "': " + e.what());
  }
  fs::path probe = dir / (".write-probe-" + std::to_string(::getpid()));
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    throw Error(ExitCode::kIo, purpose + " '" + dir.string() + "' is not writable: " + std::strerror(err));
  }
  ::close(fd);
  std::error_code ec;
  fs::remove(probe, ec);
}

uint64_t free_bytes(const fs::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) throw_io_error("cannot stat file system of", dir, errno);
  return uint64_t(st.f_bavail) * st.f_frsize;
}

OutputFile::OutputFile(const fs::path& path)
    : path_(path), file_(file_system().open_writable(path, OpenMode::kTruncate)) {}

OutputFile::~OutputFile() = default;

void OutputFile::write(const void* data, size_t size) {
  file_->append(data, size);
  bytes_ += size;
}

void OutputFile::sync_and_close() {
  file_->sync();
  file_->close();
}

std::string lowercase_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  for (auto& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

void require_output_extension(const fs::path& path, const std::string& flag,
                              std::initializer_list<std::string_view> extensions, const std::string& format) {
  const std::string ext = lowercase_extension(path);
  for (auto e : extensions)
    if (ext == e) return;
  throw Error(ExitCode::kUsage, flag + " '" + path.string() + "': the output is a " + format + "; name it *" +
                                    std::string(*extensions.begin()));
}

}  // namespace facecrowd
