// Small, durable file-system helpers. Every function throws `Error(kIo)` naming the path on failure.
// "Durable" means: written to a temporary name in the same directory, fsynced, renamed over the target,
// and the directory fsynced, so a crash leaves either the old file or the new one, never a torn one.
// They all go through the file-system seam (core/file_system.h): what they create is private (folders
// 0700, files 0600) and tests can inject disk faults into them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "core/file_system.h"

namespace facecrowd {

namespace fs = std::filesystem;

void write_file_durably(const fs::path& path, std::string_view content);
void append_line_durably(const fs::path& path, std::string_view line);  // adds '\n', fsyncs
std::string read_file(const fs::path& path);

// The file name's extension in lower case (".jpg"), "" when it has none.
std::string lowercase_extension(const fs::path& path);
// Error(kUsage) "<flag> '<path>': the output is a <format>; name it *<first extension>" unless the path
// ends in one of `extensions` (lower case, with the dot; any case accepted in the path).
void require_output_extension(const fs::path& path, const std::string& flag,
                              std::initializer_list<std::string_view> extensions, const std::string& format);
void fsync_path(const fs::path& path);           // a file or a directory
void rename_durably(const fs::path& from, const fs::path& to);  // rename + fsync of the directory
// Creates `dir` (and parents; new ones 0700) if needed and proves it writable by creating and removing a probe file.
void ensure_writable_dir(const fs::path& dir, const std::string& purpose);
uint64_t free_bytes(const fs::path& dir);

// An output file (0600) opened with O_CREAT|O_TRUNC; write() retries short writes and reports ENOSPC by name.
class OutputFile {
 public:
  explicit OutputFile(const fs::path& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(const void* data, size_t size);
  void sync_and_close();
  const fs::path& path() const { return path_; }
  uint64_t bytes_written() const { return bytes_; }

 private:
  fs::path path_;
  std::unique_ptr<WritableFile> file_;
  uint64_t bytes_ = 0;
};

}  // namespace facecrowd
