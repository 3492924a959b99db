#include "store/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "core/files.h"

namespace facecrowd {
namespace {

constexpr const char* kMarker = "facecrowd-data.json";

// One flock per data directory per process, with in-process counting, because flock() locks belong to
// open file descriptions and a second fd in the same process would deadlock against the first.
struct ProcessLock {
  int fd = -1;
  int shared_holders = 0;
  int exclusive_holders = 0;
};
std::mutex g_locks_mutex;
std::map<std::string, ProcessLock> g_locks;

class HeldLock : public DataDirLock {
 public:
  HeldLock(std::string key, LockMode mode) : key_(std::move(key)), mode_(mode) {}
  ~HeldLock() override {
    std::lock_guard guard(g_locks_mutex);
    auto& pl = g_locks[key_];
    (mode_ == LockMode::kShared ? pl.shared_holders : pl.exclusive_holders)--;
    if (pl.exclusive_holders == 0 && pl.shared_holders > 0) {
      ::flock(pl.fd, LOCK_SH);  // downgrade after a restore
    } else if (pl.exclusive_holders == 0 && pl.shared_holders == 0) {
      ::flock(pl.fd, LOCK_UN);
      ::close(pl.fd);
      g_locks.erase(key_);
    }
  }

 private:
  std::string key_;
  LockMode mode_;
};

bool is_generation_name(const std::string& name) {
  return name.rfind("gen-", 0) == 0 && name.size() > 11 && name.substr(name.size() - 7) == ".sqlite";
}

}  // namespace

void validate_database_name(const std::string& db) {
  bool ok = !db.empty() && db.size() <= 64 && std::all_of(db.begin(), db.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (!ok)
    throw Error(ExitCode::kUsage, "invalid database name '" + db + "': use 1-64 letters, digits, '-' or '_'");
}

fs::path DataDir::default_root() {
  const char* env = std::getenv("FACECROWD_DATA");
  return env && *env ? fs::path(env) : fs::path("data");
}

DataDir DataDir::open(const fs::path& root) {
  std::error_code ec;
  bool exists = fs::exists(root, ec);
  if (exists && !fs::is_directory(root, ec))
    throw Error(ExitCode::kNotOurs, "data directory '" + root.string() + "' is not a directory");
  if (exists && fs::exists(root / kMarker, ec)) {
    auto marker = nlohmann::json::parse(read_file(root / kMarker), nullptr, false);
    if (marker.is_discarded() || marker.value("format", "") != "facecrowd-data")
      throw Error(ExitCode::kNotOurs, "data directory '" + root.string() + "' has a damaged marker file " + kMarker);
    if (marker.value("version", 0) != 1)
      throw Error(ExitCode::kNotOurs, "data directory '" + root.string() + "' has unsupported format version " +
                                          std::to_string(marker.value("version", 0)));
    return DataDir(root);
  }
  if (exists && !fs::is_empty(root, ec))
    throw Error(ExitCode::kNotOurs, "'" + root.string() +
                                        "' is not a facecrowd data directory (it is not empty and has no " +
                                        kMarker + "); refusing to touch it. Point --data at an empty or new folder.");
  ensure_writable_dir(root, "data directory");
  write_file_durably(root / kMarker, R"({"format": "facecrowd-data", "version": 1})");
  return DataDir(root);
}

std::shared_ptr<DataDirLock> DataDir::lock(LockMode mode, int wait_ms) const {
  std::string key = fs::weakly_canonical(root_).string();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    {
      std::lock_guard guard(g_locks_mutex);
      auto& pl = g_locks[key];
      if (pl.fd < 0) {
        pl.fd = ::open((root_ / "LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (pl.fd < 0) {
          int err = errno;
          g_locks.erase(key);
          throw_io_error("cannot open lock file", root_ / "LOCK", err);
        }
      }
      bool granted;
      if (mode == LockMode::kShared) {
        granted = pl.exclusive_holders > 0 || pl.shared_holders > 0 || ::flock(pl.fd, LOCK_SH | LOCK_NB) == 0;
        if (granted) pl.shared_holders++;
      } else {
        // In-process shared holders are this process's own connections; the caller closes them before
        // swapping generations. Other processes' shared locks block the upgrade.
        granted = pl.exclusive_holders > 0 || ::flock(pl.fd, LOCK_EX | LOCK_NB) == 0;
        if (granted) pl.exclusive_holders++;
      }
      if (granted) return std::make_shared<HeldLock>(key, mode);
      if (pl.shared_holders == 0 && pl.exclusive_holders == 0) {
        ::close(pl.fd);
        g_locks.erase(key);
      }
    }
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error(ExitCode::kBusy, "data directory '" + root_.string() + "' is in use by another facecrowd process" +
                                       (mode == LockMode::kExclusive ? " (a restore needs it to itself)" : " (a restore is running)"));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool DataDir::database_exists(const std::string& db) const {
  std::error_code ec;
  return fs::exists(root_ / db / "CURRENT", ec);
}

std::vector<std::string> DataDir::databases() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec))
    if (entry.is_directory() && fs::exists(entry.path() / "CURRENT")) out.push_back(entry.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

fs::path DataDir::live_file(const std::string& db) const {
  validate_database_name(db);
  if (!database_exists(db))
    throw Error(ExitCode::kNotFound, "database '" + db + "' does not exist in data directory '" + root_.string() + "'");
  std::string name = read_file(root_ / db / "CURRENT");
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (!is_generation_name(name))
    throw Error(ExitCode::kInternal, "damaged CURRENT file in '" + (root_ / db).string() + "'");
  return root_ / db / name;
}

fs::path DataDir::next_generation_file(const std::string& db) const {
  validate_database_name(db);
  fs::path dir = root_ / db;
  ensure_writable_dir(dir, "database folder");
  uint64_t highest = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename();
    if (is_generation_name(name)) highest = std::max<uint64_t>(highest, std::stoull(name.substr(4)));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "gen-%06llu.sqlite", static_cast<unsigned long long>(highest + 1));
  return dir / buf;
}

void DataDir::install_generation(const std::string& db, const fs::path& generation) const {
  write_file_durably(root_ / db / "CURRENT", generation.filename().string() + "\n");
  remove_stale_generations(db);
}

void DataDir::remove_stale_generations(const std::string& db) const {
  if (!database_exists(db)) return;
  std::string live = live_file(db).filename();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ / db, ec)) {
    std::string name = entry.path().filename();
    if (name.rfind("gen-", 0) == 0 && name.rfind(live, 0) != 0) fs::remove(entry.path(), ec);  // + -wal/-shm
  }
}

}  // namespace facecrowd
