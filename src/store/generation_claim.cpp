#include "store/generation_claim.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "core/error.h"

namespace facecrowd {

std::unique_ptr<GenerationClaim> GenerationClaim::acquire(const std::filesystem::path& db_folder, int wait_ms) {
  const auto file = db_folder / kFileName;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw_io_error("cannot create the restore's claim file", file.string(), errno);
    // A checker (generation_being_built) holds a shared lock for a moment: retry briefly before "busy".
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        int err = errno;
        ::close(fd);
        throw_io_error("cannot lock the restore's claim file", file.string(), err);
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::close(fd);
        throw Error(ExitCode::kBusy, "another restore is building a new generation of the database in '" +
                                         db_folder.string() + "' (it holds " + file.string() +
                                         "); wait for it to finish, then try again");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // The previous holder removes the file as it releases it: a lock on a removed file claims nothing.
    struct stat held{}, named{};
    if (::fstat(fd, &held) == 0 && ::stat(file.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino)
      return std::unique_ptr<GenerationClaim>(new GenerationClaim(file, fd));
    ::close(fd);
  }
}

GenerationClaim::~GenerationClaim() {
  ::unlink(file_.c_str());  // still held: no checker can take the removal for a dead claim's
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

void GenerationClaim::name(const std::string& generation_file_name) {
  const std::string text = generation_file_name + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) != ssize_t(text.size()))
    throw_io_error("cannot record the generation being built in", file_.string(), errno);
}

namespace {

// The generation name recorded in the claim file open at `fd` ("" when none).
std::string recorded_name(int fd) {
  std::string name;
  char buf[128];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n > 0) name.assign(buf, size_t(n));
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  return name;
}

// The name in `db_folder`'s claim file when it is held (`held` true) or when nobody holds it (false).
std::string claim_name(const std::filesystem::path& db_folder, bool held) {
  const auto file = db_folder / GenerationClaim::kFileName;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";  // never claimed
  std::string name;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    // Held: a restore is building. Its name was written before the generation file was created.
    // Held but not yet named: no file of this build exists yet, so none can have been listed.
    if (held) name = recorded_name(fd);
  } else {
    // Nobody holds it: read under our shared lock, so a restore claiming it meanwhile (and renaming it)
    // waits until we have read the dead build's name.
    if (!held) name = recorded_name(fd);
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return name;
}

}  // namespace

std::string generation_being_built(const std::filesystem::path& db_folder) { return claim_name(db_folder, true); }

std::string generation_of_dead_claim(const std::filesystem::path& db_folder) { return claim_name(db_folder, false); }

}  // namespace facecrowd
