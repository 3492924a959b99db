#include "store/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "core/display_text.h"
#include "core/error.h"
#include "core/files.h"
#include "store/generation_claim.h"
#include "store/store_damage.h"

namespace facecrowd {
namespace {

constexpr const char* kMarker = "facecrowd-data.json";

// One flock per data directory per process, with in-process counting, because flock() locks belong to
// open file descriptions and a second fd in the same process would deadlock against the first.
// The exclusive lock belongs to one thread (the restore's): only that thread's shared requests ride on it,
// so a request thread of a server cannot open the store (and remove "stale" generations) mid-restore.
struct ProcessLock {
  int fd = -1;
  int shared_holders = 0;
  int exclusive_holders = 0;
  std::thread::id exclusive_owner;
  std::map<std::thread::id, int> shared_by_thread;
};
std::mutex g_locks_mutex;
std::map<std::string, ProcessLock> g_locks;

class HeldLock : public DataDirLock {
 public:
  HeldLock(std::string key, LockMode mode) : key_(std::move(key)), mode_(mode), thread_(std::this_thread::get_id()) {}
  ~HeldLock() override {
    std::lock_guard guard(g_locks_mutex);
    auto& pl = g_locks[key_];
    (mode_ == LockMode::kShared ? pl.shared_holders : pl.exclusive_holders)--;
    if (mode_ == LockMode::kShared && --pl.shared_by_thread[thread_] == 0) pl.shared_by_thread.erase(thread_);
    if (pl.exclusive_holders == 0) pl.exclusive_owner = {};
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
  std::thread::id thread_;  // the requesting thread (a lock may be released on another)
};

bool is_generation_name(const std::string& name) {
  return name.rfind("gen-", 0) == 0 && name.size() > 11 && name.substr(name.size() - 7) == ".sqlite" &&
         std::all_of(name.begin() + 4, name.end() - 7, [](char c) { return c >= '0' && c <= '9'; });
}

// A generation's own files: gen-N.sqlite and its -wal, -shm, -journal side files.
bool is_generation_file(const std::string& name) { return name.rfind("gen-", 0) == 0; }

// Text from a damaged file, printable: at most 40 bytes, others as \xNN.
std::string printable_prefix(const std::string& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 40; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return bytes.size() > 40 ? out + "..." : out;
}

// Why `file` cannot be a live generation, or "" when it starts like an SQLite database.
std::string generation_file_problem(const fs::path& file) {
  std::error_code ec;
  auto status = fs::status(file, ec);
  if (ec || !fs::exists(status)) return "it does not exist";
  if (!fs::is_regular_file(status)) return "it is not a regular file";
  auto size = fs::file_size(file, ec);
  if (size == 0) return "it is empty (0 bytes)";
  // Read through SQLite's own VFS, never a plain open()/close(): closing any descriptor of a file drops
  // every POSIX lock this process holds on it, SQLite's included, and a connection that lost its locks
  // can have its WAL deleted under it by another process's close. SQLite's unix VFS knows this: while a
  // connection of this process holds a lock on the file, xClose parks the descriptor and the next open
  // of the file reuses it; it is closed with the last connection. So the probe neither breaks a live
  // connection's locks nor keeps a descriptor (or a deleted generation's disk space) any longer than
  // SQLite does, and every probe reads the file now at `file`, not an inode seen before (commit 822f5c4
  // kept one descriptor per path for the process's life, and read a replaced file's old contents).
  char header[16] = {};
  ssize_t n = 0;
  sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  if (!vfs) return "it cannot be read (SQLite has no default VFS)";
  std::vector<char> handle(size_t(vfs->szOsFile), 0);
  auto* f = reinterpret_cast<sqlite3_file*>(handle.data());
  const std::string name = file.string();  // SQLite keeps the name pointer until xClose
  int flags = 0;
  int rc = vfs->xOpen(vfs, name.c_str(), f, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &flags);
  if (rc != SQLITE_OK) {
    if (f->pMethods) f->pMethods->xClose(f);
    return std::string("it cannot be read (") + sqlite3_errstr(rc) + ")";
  }
  rc = f->pMethods->xRead(f, header, sizeof header, 0);
  f->pMethods->xClose(f);
  if (rc == SQLITE_OK) n = ssize_t(sizeof header);
  else if (rc == SQLITE_IOERR_SHORT_READ) n = ssize_t(std::min<uintmax_t>(size, sizeof header));
  else return std::string("it cannot be read (") + sqlite3_errstr(rc) + ")";
  if (n != ssize_t(sizeof header) || std::memcmp(header, "SQLite format 3", 16) != 0)
    return "it is not an SQLite database (its first bytes are '" + printable_prefix(std::string(header, n > 0 ? size_t(n) : 0)) + "')";
  return "";
}

std::string utc_stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

void validate_database_name(const std::string& db) {
  bool ok = !db.empty() && db.size() <= 64 && std::all_of(db.begin(), db.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (!ok)
    throw Error(ExitCode::kUsage, "invalid database name '" + shortened(db, 64) + "': use 1-64 letters, digits, '-' or '_'");
}

fs::path DataDir::default_root() {
  const char* env = std::getenv("FACECROWD_DATA");
  return env && *env ? fs::path(env) : fs::path("data");
}

namespace {
// Empty, or holding only backup-target.json: `facecrowd target set` run before any data was written (before
// it made the folder a data directory first) left exactly that, and every command then refused the folder.
bool is_empty_but_for_a_target_config(const fs::path& root) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec))
    if (entry.path().filename() != "backup-target.json") return false;
  return !ec;
}
}  // namespace

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
  if (exists && !is_empty_but_for_a_target_config(root))
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
        pl.fd = ::open((root_ / "LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (pl.fd < 0) {
          int err = errno;
          g_locks.erase(key);
          throw_io_error("cannot open lock file", root_ / "LOCK", err);
        }
      }
      const auto me = std::this_thread::get_id();
      bool granted;
      if (mode == LockMode::kShared) {
        // Under an exclusive lock only its owner thread may open the store (restore opens the live
        // generation itself); any other thread waits until the restore is over.
        if (pl.exclusive_holders > 0) granted = pl.exclusive_owner == me;
        else granted = pl.shared_holders > 0 || ::flock(pl.fd, LOCK_SH | LOCK_NB) == 0;
        if (granted) {
          pl.shared_holders++;
          pl.shared_by_thread[me]++;
        }
      } else {
        // This thread's own shared holders are its connections, which the caller closes before swapping
        // generations; another thread's open connection (or exclusive lock) makes it wait, and other
        // processes' shared locks block the upgrade.
        bool others_inside = pl.exclusive_holders > 0 ? pl.exclusive_owner != me
                                                      : std::any_of(pl.shared_by_thread.begin(), pl.shared_by_thread.end(),
                                                                    [&](const auto& t) { return t.first != me; });
        granted = !others_inside && (pl.exclusive_holders > 0 || ::flock(pl.fd, LOCK_EX | LOCK_NB) == 0);
        if (granted) {
          pl.exclusive_holders++;
          pl.exclusive_owner = me;
        }
      }
      if (granted) return std::make_shared<HeldLock>(key, mode);
      if (pl.shared_holders == 0 && pl.exclusive_holders == 0) {
        ::close(pl.fd);
        g_locks.erase(key);
      }
    }
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error(ExitCode::kBusy, "data directory '" + root_.string() + "' is in use by another facecrowd process" +
                                       (mode == LockMode::kExclusive ? " (a restore needs it to itself)" : " (a restore is running)") +
                                       " — or another thread of this process holds it");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool DataDir::database_exists(const std::string& db) const {
  std::error_code ec;
  if (fs::exists(root_ / db / "CURRENT", ec)) return true;
  for (const auto& entry : fs::directory_iterator(root_ / db, ec))
    if (is_generation_file(entry.path().filename().string())) return killed_first_build(db).empty();
  return false;
}

std::string DataDir::killed_first_build(const std::string& db) const {
  std::error_code ec;
  const fs::path folder = root_ / db;
  if (fs::exists(folder / "CURRENT", ec)) return "";
  std::vector<std::string> generation_files;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    std::string name = entry.path().filename().string();
    if (is_generation_file(name)) generation_files.push_back(name);
  }
  if (ec || generation_files.empty()) return "";
  // Asked after the listing (as remove_stale_generations does): a build that finished meanwhile wrote
  // CURRENT and removed its claim, so its files are not taken for a dead build's.
  const std::string dead = generation_of_dead_claim(folder);
  if (dead.empty() || !is_generation_name(dead)) return "";
  for (const auto& name : generation_files)
    if (name.rfind(dead, 0) != 0) return "";
  if (fs::exists(folder / "CURRENT", ec)) return "";
  return dead;
}

std::vector<std::string> DataDir::databases() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && name != "damaged" && database_exists(name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Error damaged_store_error(const DataDir& dir, const std::string& db, const std::string& reason) {
  const fs::path& root_ = dir.root();
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ / db, ec)) {
    std::string name = entry.path().filename().string();
    if (!is_generation_name(name)) continue;
    std::error_code size_ec;
    auto size = fs::file_size(entry.path(), size_ec);
    found.push_back(name + " (" + (size_ec ? std::string("unreadable") : std::to_string(size) + " bytes") + ")");
  }
  std::sort(found.begin(), found.end());
  std::string list;
  for (const auto& f : found) list += (list.empty() ? "" : ", ") + f;
  std::string message = "database '" + db + "' in data directory '" + root_.string() + "' is damaged: " + reason +
                        ". Generation files found in '" + (root_ / db).string() + "': " +
                        (list.empty() ? "none" : list) +
                        ". Nothing was changed or deleted. To recover: `facecrowd restore latest --drop` rebuilds it from "
                        "the newest backup (add `--until TIME` to replay the shipped oplog) and moves the damaged files "
                        "to '" + (root_ / "damaged").string() + "'";
  if (!found.empty())
    message += "; or, when one of the generation files above is intact (the newest holds the latest changes), "
               "`facecrowd repair --db " + db + " --use-generation N` checks it and makes it live";
  return Error(kExitDamaged, message);
}

fs::path DataDir::live_file(const std::string& db) const {
  validate_database_name(db);
  if (!database_exists(db))
    throw Error(ExitCode::kNotFound, "database '" + db + "' does not exist in data directory '" + root_.string() + "'");
  fs::path current = root_ / db / "CURRENT";
  std::error_code ec;
  if (!fs::exists(current, ec)) throw damaged_store_error(*this, db, "its CURRENT file is missing");
  if (!fs::is_regular_file(current, ec)) throw damaged_store_error(*this, db, "its CURRENT is not a regular file");
  if (fs::file_size(current, ec) > 256) throw damaged_store_error(*this, db, "its CURRENT file is not a generation name (it is too long)");
  std::string name = read_file(current);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (name.empty()) throw damaged_store_error(*this, db, "its CURRENT file is empty");
  if (!is_generation_name(name))
    throw damaged_store_error(*this, db, "its CURRENT file does not name a generation (it holds '" + printable_prefix(name) + "')");
  fs::path file = root_ / db / name;
  std::string problem = generation_file_problem(file);
  if (!problem.empty()) throw damaged_store_error(*this, db, "CURRENT names " + name + ", but " + problem);
  return file;
}

fs::path set_aside_damaged(const DataDir& data, const std::string& db, const fs::path& keep) {
  const fs::path& root_ = data.root();
  fs::path dir = root_ / db;
  std::vector<fs::path> moving;
  std::error_code ec;
  std::string kept = keep.filename().string();
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (is_generation_file(name) && (kept.empty() || name.rfind(kept, 0) != 0)) moving.push_back(entry.path());
  }
  bool has_current = fs::exists(dir / "CURRENT", ec);
  if (moving.empty() && !has_current) return {};
  fs::path base = root_ / "damaged" / (db + "-" + utc_stamp());
  fs::path target = base;
  for (int n = 2; fs::exists(target, ec); ++n) target = base.string() + "-" + std::to_string(n);
  fs::create_directories(target, ec);
  if (ec) throw_io_error("cannot create the folder for damaged files", target, ec.value());
  if (has_current) {
    fs::copy_file(dir / "CURRENT", target / "CURRENT", ec);
    if (ec) throw_io_error("cannot keep a copy of the damaged CURRENT file in", target, ec.value());
  }
  for (const auto& from : moving) {
    // The same file system (both under the data directory), so a rename: nothing is copied or lost.
    fs::rename(from, target / from.filename(), ec);
    if (ec) throw_io_error("cannot move the damaged generation file '" + from.string() + "' to", target, ec.value());
  }
  fsync_path(target);
  fsync_path(dir);
  return target;
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
  std::string live = live_file(db).filename();  // Error(kDamaged) unless the named generation is proven there
  std::error_code ec;
  std::vector<fs::path> generation_files;
  for (const auto& entry : fs::directory_iterator(root_ / db, ec))
    if (entry.path().filename().string().rfind("gen-", 0) == 0) generation_files.push_back(entry.path());
  // Asked after the listing: a restore names its generation before creating it (store/generation_claim.h),
  // so every file of a live build listed above is named here. A dead claim names nothing.
  const std::string building = generation_being_built(root_ / db);
  for (const auto& path : generation_files) {
    std::string name = path.filename();
    if (name.rfind(live, 0) == 0 || (!building.empty() && name.rfind(building, 0) == 0)) continue;
    fs::remove(path, ec);  // + -wal/-shm
  }
}

}  // namespace facecrowd
