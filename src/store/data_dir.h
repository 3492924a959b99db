// The data directory: where facecrowd keeps its databases. Layout:
//
//   <root>/facecrowd-data.json      marker: {"format": "facecrowd-data", "version": 1}
//   <root>/LOCK                      flock: shared by every open database, exclusive during a restore
//                                    (the CLI's whole restore; a server's restore only at the swap)
//   <root>/<db>/CURRENT              the name of the live generation file, replaced durably
//   <root>/<db>/gen-<n>.sqlite       a generation (SQLite, WAL); a restore builds gen-<n+1> beside it
//   <root>/<db>/BUILDING             a restore's claim on the generation it builds (store/generation_claim.h)
//   <root>/damaged/<db>-<time>/      files a recovery moved aside (store/store_damage.h); never deleted
//
// A restore never writes into the live generation: it builds a new one and swaps CURRENT (one rename),
// which is what makes it atomic (DESIGN invariant 3). Opening refuses a non-empty directory without the
// marker (Error kNotOurs), so facecrowd never scribbles over somebody else's files. A damaged database
// (CURRENT missing or garbled, or naming a missing or non-SQLite file) is reported as Error(kExitDamaged)
// and never "cleaned": no file is deleted that is not proven stale (store/store_damage.h).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace facecrowd {

namespace fs = std::filesystem;

enum class LockMode { kShared, kExclusive };

// A held lock on the data directory; released when the last handle goes. Within this process the lock is
// counted per thread: an exclusive lock is granted only while no other thread holds any (the thread's own
// shared holders are the connections it closes before a swap), and it satisfies later shared requests of
// the thread that holds it only — another thread's shared request waits until the exclusive one is gone,
// so a server's request thread can never open the store during a swap. (While a server's restore builds
// under a shared lock, its generation is protected from opens by its claim, store/generation_claim.h.)
class DataDirLock {
 public:
  virtual ~DataDirLock() = default;
};

class DataDir {
 public:
  // Opens `root`, creating it (and the marker) when missing or empty (or holding only backup-target.json).
  static DataDir open(const fs::path& root);
  // The directory named by --data, else $FACECROWD_DATA, else ./data.
  static fs::path default_root();

  const fs::path& root() const { return root_; }

  // Blocks for up to `wait_ms` (0: try once); Error(kBusy) naming the directory when not granted.
  std::shared_ptr<DataDirLock> lock(LockMode mode, int wait_ms = 0) const;

  // True when <root>/<db> holds a CURRENT or any generation file: a database whose CURRENT was lost
  // still exists (and is reported damaged by live_file), so it is never silently created afresh.
  // Except the leftover of a killed FIRST build (killed_first_build): that database never existed.
  bool database_exists(const std::string& db) const;
  // The generation file name of a restore killed while building the FIRST generation of `db`: there is no
  // CURRENT, a claim that no process holds (store/generation_claim.h) names that generation, and every
  // generation file in the folder is that generation's. It never held data anyone wrote, so it is not damage:
  // the next install removes it as a stale generation. "" otherwise (a CURRENT, a live claim, or any other
  // generation file: a lost CURRENT beside real generations is still damage).
  std::string killed_first_build(const std::string& db) const;
  std::vector<std::string> databases() const;
  // The live generation's file, proven to start like an SQLite database (read through SQLite's VFS, so
  // no connection of this process loses its locks); Error(kNotFound) when the database does not exist,
  // Error(kExitDamaged) naming the generation files found when CURRENT or the file it names is damaged.
  fs::path live_file(const std::string& db) const;
  // A fresh, unused generation path for `db` (creating the database folder).
  fs::path next_generation_file(const std::string& db) const;
  // Makes `generation` live for `db`: CURRENT is replaced durably, then every other generation is removed.
  // The caller holds the exclusive lock and has closed every connection to the old generation.
  void install_generation(const std::string& db, const fs::path& generation) const;
  // Removes generation files that CURRENT does not name (left by a killed restore), only once the named
  // one is proven (live_file); a damaged database gives Error(kExitDamaged) and nothing is deleted. The
  // generation a restore is building under a live claim (store/generation_claim.h) is left alone.
  void remove_stale_generations(const std::string& db) const;

 private:
  explicit DataDir(fs::path root) : root_(std::move(root)) {}
  fs::path root_;
};

// Validates a database name (letters, digits, '-', '_'; 1..64 chars); Error(kUsage) otherwise.
void validate_database_name(const std::string& db);

}  // namespace facecrowd
