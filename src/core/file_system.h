// The file-system seam (in the manner of LevelDB's `Env`): every file and folder facecrowd creates itself
// is created, written, renamed and removed through a FileSystem, so that
//   - tests can inject the faults of a real disk (full disk, EIO, a short write, a failed rename) without
//     root or tmpfs (core/fault_file_system.h), and
//   - one place enforces private modes (issue 15.1): a folder created through the seam is 0700 and a file
//     0600, whatever the caller's umask (the modes are passed to mkdir/open and fchmod'ed after creation,
//     so even umask 000 gives private files).
//
// What does NOT go through the seam: SQLite's own files (the database, -wal, -shm; they take the mode of
// the database file, which SQLite creates under the process umask: main() sets umask 077), libarchive's
// and zlib's reads, hnswlib's index writer. Those are private through the umask set at process start.
//
// core/files.h's helpers (write_file_durably, OutputFile, rename_durably, ...) are implemented on the
// seam, so code that uses them gets both the faults and the modes without change.
//
// Contract of every method: on failure it throws Error(kIo) "<what it was doing> '<path>': <strerror>",
// and a method that creates something creates it private. Thread-safety: the real file system is
// stateless; FaultFileSystem locks its rule list. The process-wide instance is swapped only by tests
// (ScopedFileSystem), never while other threads write.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace facecrowd {

namespace fs = std::filesystem;

inline constexpr mode_t kPrivateFileMode = 0600;
inline constexpr mode_t kPrivateDirMode = 0700;

// A file open for writing. append() writes everything or throws (it retries short writes and EINTR and
// names ENOSPC); sync() is fsync; close() reports a failed close (NFS, quota). Destruction without
// close() closes silently (an abandoned file).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual void append(const void* data, size_t size) = 0;
  virtual void sync() = 0;
  virtual void close() = 0;
  virtual const fs::path& path() const = 0;
};

enum class OpenMode {
  kTruncate,  // O_CREAT|O_TRUNC
  kAppend,    // O_CREAT|O_APPEND
  kExclusive, // O_CREAT|O_EXCL: Error(kConflict) when it exists (never replaces what is there)
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Opens (creating 0600) `path` for writing.
  virtual std::unique_ptr<WritableFile> open_writable(const fs::path& path, OpenMode mode) = 0;
  // Creates `dir` and any missing parents, each new one 0700; existing folders keep their mode.
  virtual void create_dirs(const fs::path& dir) = 0;
  virtual void rename(const fs::path& from, const fs::path& to) = 0;
  // Removes a file or an empty folder; false when it did not exist.
  virtual bool remove(const fs::path& path) = 0;
  // fsync of a file or a folder (EINVAL from a file system that cannot sync a folder is ignored).
  virtual void sync_path(const fs::path& path) = 0;

  // Derived operations, the same for every implementation (they call the virtual ones, so the faults
  // reach them too).
  // Writes `content` to `path` atomically: a temporary `<path>.tmp-<pid>` in the same folder, fsync,
  // rename over `path`, fsync of the folder. A failure leaves `path` as it was and no temporary.
  void write_atomically(const fs::path& path, std::string_view content);
  // Appends `line` + '\n' and fsyncs.
  void append_line(const fs::path& path, std::string_view line);
  // rename + fsync of the target's folder.
  void rename_durably(const fs::path& from, const fs::path& to);
};

// The real POSIX file system.
FileSystem& real_file_system();

// The file system every facecrowd component uses: the real one unless a test installed another.
FileSystem& file_system();

// Installs `fs` as file_system() for its lifetime (tests only; nests).
class ScopedFileSystem {
 public:
  explicit ScopedFileSystem(FileSystem& fs);
  ~ScopedFileSystem();
  ScopedFileSystem(const ScopedFileSystem&) = delete;
  ScopedFileSystem& operator=(const ScopedFileSystem&) = delete;

 private:
  FileSystem* previous_;
};

}  // namespace facecrowd
