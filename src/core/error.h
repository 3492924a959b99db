// Errors that reach the operator. Every failure the operator can act on is an `Error` whose message names
// the input and the reason, and whose `ExitCode` is what the process returns. Code below cli/ throws
// these; cli/ catches them once, prints `error: <message>` and exits with the code.
#pragma once

#include <stdexcept>
#include <string>

namespace facecrowd {

// Process exit codes; stable, documented in the README.
enum class ExitCode : int {
  kOk = 0,
  kWarning = 1,       // `backups status` WARNING; otherwise unused
  kUsage = 2,         // bad flags or arguments (CLI11 parse errors too)
  kBadInput = 3,      // corrupt, truncated or unreadable input (archive, image, JSON)
  kNotFound = 4,      // a named thing does not exist (archive, collection, profile id)
  kConflict = 5,      // the operation would overwrite data (non-empty target without --drop)
  kIo = 6,            // the file system failed: disk full, permission, read-only
  kBusy = 7,          // another facecrowd process holds the data directory
  kNotOurs = 8,       // a data directory that facecrowd did not create
  kInternal = 10,     // a bug: an invariant failed
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// errno-based I/O failure: "<what> '<path>': <strerror>"; ENOSPC, EROFS, EACCES all map to kIo.
[[noreturn]] void throw_io_error(const std::string& what, const std::string& path, int errno_value);

}  // namespace facecrowd
