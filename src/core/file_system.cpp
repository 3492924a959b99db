#include "core/file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "core/error.h"

namespace facecrowd {
namespace {

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(fs::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void append(const void* data, size_t size) override {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_, p, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_io_error("cannot write", path_, errno);
      }
      if (n == 0) throw_io_error("cannot write (short write)", path_, ENOSPC);
      p += n;
      size -= size_t(n);
    }
  }
  void sync() override {
    if (::fsync(fd_) != 0) throw_io_error("cannot fsync", path_, errno);
  }
  void close() override {
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) throw_io_error("cannot close", path_, errno);
  }
  const fs::path& path() const override { return path_; }

 private:
  fs::path path_;
  int fd_;
};

class PosixFileSystem : public FileSystem {
 public:
  std::unique_ptr<WritableFile> open_writable(const fs::path& path, OpenMode mode) override {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    if (mode == OpenMode::kTruncate) flags |= O_TRUNC;
    if (mode == OpenMode::kAppend) flags |= O_APPEND;
    if (mode == OpenMode::kExclusive) flags |= O_EXCL;
    int fd = ::open(path.c_str(), flags, kPrivateFileMode);
    if (fd < 0) {
      int err = errno;
      if (err == EEXIST && mode == OpenMode::kExclusive)
        throw Error(ExitCode::kConflict, "'" + path.string() + "' already exists; not overwriting it");
      throw_io_error("cannot create", path, err);
    }
    // open()'s mode only applies to a new file and is masked by the umask; an existing file keeps its
    // mode, so a file we write into is made private here (ours: we are its owner).
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0077) != 0 && st.st_uid == ::geteuid())
      ::fchmod(fd, st.st_mode & ~mode_t(0077));
    return std::make_unique<PosixWritableFile>(path, fd);
  }

  void create_dirs(const fs::path& dir) override {
    if (dir.empty()) return;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return;
    fs::path parent = dir.parent_path();
    if (!parent.empty() && parent != dir) create_dirs(parent);
    if (::mkdir(dir.c_str(), kPrivateDirMode) != 0) {
      if (errno == EEXIST && fs::is_directory(dir, ec)) return;
      throw_io_error("cannot create folder", dir, errno);
    }
    ::chmod(dir.c_str(), kPrivateDirMode);  // mkdir's mode is masked by the umask
  }

  void rename(const fs::path& from, const fs::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) throw_io_error("cannot rename '" + from.string() + "' to", to, errno);
  }

  bool remove(const fs::path& path) override {
    std::error_code ec;
    bool removed = fs::remove(path, ec);
    if (ec) throw Error(ExitCode::kIo, "cannot remove '" + path.string() + "': " + ec.message());
    return removed;
  }

  void sync_path(const fs::path& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_io_error("cannot open for fsync", path, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0 && err != EINVAL) throw_io_error("cannot fsync", path, err);
  }
};

std::atomic<FileSystem*>& current() {
  static std::atomic<FileSystem*> fs{&real_file_system()};
  return fs;
}

}  // namespace

FileSystem& real_file_system() {
  static PosixFileSystem fs;
  return fs;
}

FileSystem& file_system() { return *current().load(); }

ScopedFileSystem::ScopedFileSystem(FileSystem& fs) : previous_(current().exchange(&fs)) {}
ScopedFileSystem::~ScopedFileSystem() { current().store(previous_); }

void FileSystem::write_atomically(const fs::path& path, std::string_view content) {
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  try {
    auto out = open_writable(tmp, OpenMode::kTruncate);
    out->append(content.data(), content.size());
    out->sync();
    out->close();
    rename_durably(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void FileSystem::append_line(const fs::path& path, std::string_view line) {
  auto out = open_writable(path, OpenMode::kAppend);
  std::string buf(line);
  buf += '\n';
  out->append(buf.data(), buf.size());
  out->sync();
  out->close();
}

void FileSystem::rename_durably(const fs::path& from, const fs::path& to) {
  rename(from, to);
  sync_path(to.parent_path().empty() ? fs::path(".") : to.parent_path());
}

}  // namespace facecrowd
