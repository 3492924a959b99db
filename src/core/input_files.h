// Reading a file named by the operator, bounded: only regular files (a FIFO, a character device such as
// /dev/zero, a socket or a directory is refused before any read, and opening never blocks on a FIFO), and
// never more than a stated number of bytes (Error(kBadInput) naming the limit, after reading at most
// limit + 1 bytes, so a file that grows while being read cannot exhaust memory either).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace facecrowd {

// "a FIFO", "a character device", "a directory", … for messages; "a regular file" for one.
std::string file_kind(const std::filesystem::path& path);

// Error(kBadInput) "<what> '<path>': is <kind>, not a regular file" unless `path` (links followed) is a
// regular file or, when `allow_directory`, a directory; Error(kNotFound) when it does not exist.
void require_regular_file(const std::filesystem::path& path, const std::string& what, bool allow_directory = false);

// The whole file; `what` names it in errors ("image", "archive"). Error(kNotFound), Error(kBadInput) for
// a non-regular file or more than `max_bytes`, Error(kIo) when it cannot be read.
std::string read_regular_file(const std::filesystem::path& path, uint64_t max_bytes, const std::string& what);

}  // namespace facecrowd
