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

void fsync_path(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io_error("cannot open for fsync", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) throw_io_error("cannot fsync", path, err);
}

void rename_durably(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) throw_io_error("cannot rename to", to, errno);
  fsync_path(to.parent_path().empty() ? fs::path(".") : to.parent_path());
}

void write_file_durably(const fs::path& path, std::string_view content) {
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  try {
    OutputFile out(tmp);
    out.write(content.data(), content.size());
    out.sync_and_close();
    rename_durably(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void append_line_durably(const fs::path& path, std::string_view line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw_io_error("cannot open for append", path, errno);
  std::string buf(line);
  buf += '\n';
  ssize_t n = ::write(fd, buf.data(), buf.size());
  int err = errno;
  bool ok = n == ssize_t(buf.size()) && ::fsync(fd) == 0;
  if (!ok && n == ssize_t(buf.size())) err = errno;
  ::close(fd);
  if (!ok) throw_io_error("cannot append to", path, n < 0 || n == ssize_t(buf.size()) ? err : ENOSPC);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_io_error("cannot read", path, errno ? errno : ENOENT);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ensure_writable_dir(const fs::path& dir, const std::string& purpose) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ExitCode::kIo, "cannot create " + purpose + " '" + dir.string() + "': " + ec.message());
  fs::path probe = dir / (".write-probe-" + std::to_string(::getpid()));
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    throw Error(ExitCode::kIo, purpose + " '" + dir.string() + "' is not writable: " + std::strerror(err));
  }
  ::close(fd);
  fs::remove(probe, ec);
}

uint64_t free_bytes(const fs::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) throw_io_error("cannot stat file system of", dir, errno);
  return uint64_t(st.f_bavail) * st.f_frsize;
}

OutputFile::OutputFile(const fs::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_io_error("cannot create", path, errno);
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void OutputFile::write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io_error("cannot write", path_, errno);
    }
    if (n == 0) throw_io_error("cannot write", path_, ENOSPC);
    p += n;
    size -= size_t(n);
    bytes_ += uint64_t(n);
  }
}

void OutputFile::sync_and_close() {
  if (::fsync(fd_) != 0) throw_io_error("cannot fsync", path_, errno);
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) throw_io_error("cannot close", path_, errno);
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
