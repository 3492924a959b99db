#include "backup/oplog_shipper.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <thread>

#include "backup/backup_status.h"  // human_bytes
#include "backup/oplog_slice.h"
#include "backup/slice_integrity.h"
#include "core/error.h"
#include "core/file_lock.h"
#include "core/files.h"
#include "core/utc_time.h"
#include "store/database.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

// Exclusive flock on <backup_dir>/oplog-ship.lock for one ship: two ships from the same position would
// write overlapping slices.
FileLock lock_ship(const fs::path& backup_dir) {
  fs::path file = backup_dir / "oplog-ship.lock";
  auto lock = FileLock::try_lock(file);
  if (!lock)
    throw Error(ExitCode::kBusy, "another `facecrowd oplog ship` is running for '" + backup_dir.string() +
                                     "' (it holds " + file.string() + ")");
  return std::move(*lock);
}

// Under the ship lock no other slice is being written: a partial slice is what a killed ship left.
void remove_stale_partial_slices(const fs::path& backup_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(backup_dir, ec))
    if (entry.path().filename().string().rfind("oplog_slice.partial-", 0) == 0) fs::remove(entry.path(), ec);
}

uint32_t now_secs() { return uint32_t(now_millis() / 1000); }

// Where this ship starts. Normally the shipped position; when the live oplog no longer holds the entry at
// that position (the anchor every ship keeps), entries may be lost, and shipping may only go on from a
// backup whose snapshot the live oplog fully continues.
OplogTimestamp start_position(const BackupCatalog& catalog, const std::string& db, OplogTimestamp shipped,
                              const Database::ReadTransaction::OplogRange& range, std::string& note) {
  if (shipped.is_null() || (range.entries > 0 && range.first <= shipped)) return shipped;
  std::string live = range.entries > 0 ? "starts at " + range.first.to_string() : "is empty";
  auto archives = catalog.archives(db);
  for (auto it = archives.rbegin(); it != archives.rend(); ++it) {
    if (!it->manifest) continue;
    OplogTimestamp base = it->manifest->oplog_start;
    if (base > shipped && range.entries > 0 && range.first <= base) {
      note = "the live oplog " + live + ", after the shipped position " + shipped.to_string() +
             "; shipping restarts at backup '" + it->path.filename().string() + "' (" + base.to_string() + ")";
      return base;
    }
  }
  throw Error(ExitCode::kConflict,
              "oplog gap in database '" + db + "': the last shipped position is " + shipped.to_string() +
                  " but the live oplog " + live +
                  ", so entries after " + shipped.to_string() +
                  " were removed before they were shipped (or a restore replaced the history). Point-in-time "
                  "recovery cannot cross this gap; take a new backup (`facecrowd backup`) and shipping restarts "
                  "from its position.");
}

}  // namespace

nlohmann::json ShipResult::to_json() const {
  nlohmann::json slice_names = nlohmann::json::array(), pruned_names = nlohmann::json::array();
  for (const auto& s : slices) slice_names.push_back(s.filename().string());
  for (const auto& p : pruned) pruned_names.push_back(p.filename().string());
  nlohmann::json j = {{"slices", slice_names}, {"entries", entries},      {"bytes", bytes},
                      {"from", from.to_string()}, {"to", to.to_string()}, {"trimmed", trimmed},
                      {"pruned", pruned_names}, {"lag_seconds", lag_seconds}};
  if (!note.empty()) j["note"] = note;
  return j;
}

std::string ShipResult::summary() const {
  std::string s;
  if (entries == 0) {
    s = "nothing to ship (shipped up to " + to.to_string() + ")";
  } else {
    s = "shipped " + counted(entries, "entry", "entries") + " " + from.to_string() + ".." + to.to_string() + " in " +
        counted(slices.size(), "slice") + " (" + human_bytes(bytes) +
        "), lag " + std::to_string(lag_seconds) + "s";
  }
  if (trimmed > 0) s += "; trimmed " + counted(trimmed, "live oplog entry", "live oplog entries");
  if (!pruned.empty()) s += "; pruned " + counted(pruned.size(), "old slice");
  if (!note.empty()) s += "; " + note;
  return s;
}

std::vector<fs::path> prune_unneeded_slices(const BackupCatalog& catalog, const std::string& db) {
  auto archives = catalog.archives(shipped_database(catalog).value_or(db));
  if (archives.empty()) return {};
  OplogTimestamp oldest_need = OplogTimestamp::from_packed(UINT64_MAX);
  for (const auto& a : archives) {
    if (!a.manifest) return {};  // an archive whose position is unknown may need any slice
    oldest_need = std::min(oldest_need, a.manifest->oplog_start);
  }
  auto slices = catalog.slices();
  OplogTimestamp newest = catalog.shipped_position();
  std::vector<fs::path> pruned;
  for (const auto& s : slices) {
    if (s.to > oldest_need || s.to == newest) continue;
    std::error_code ec;
    if (!fs::remove(s.path, ec) && ec) throw_io_error("cannot delete oplog slice", s.path, ec.value());
    fs::remove(slice_record_path(s.path), ec);
    pruned.push_back(s.path);
  }
  if (!pruned.empty()) fsync_path(catalog.dir());
  return pruned;
}

ShipResult ship_oplog(const DataDir& data, const fs::path& backup_dir, const ShipOptions& options) {
  if (options.max_slice_entries < 1 || options.max_slice_bytes < 1)
    throw Error(ExitCode::kUsage, "oplog slices must hold at least one entry and one byte");
  ensure_writable_dir(backup_dir, "backup directory");
  FileLock lock = lock_ship(backup_dir);
  remove_stale_partial_slices(backup_dir);
  BackupCatalog catalog(backup_dir);
  if (auto owner = shipped_database(catalog); owner && *owner != options.db)
    throw Error(ExitCode::kConflict,
                "backup directory '" + backup_dir.string() + "' holds the shipped oplog of database '" + *owner +
                    "'; shipping database '" + options.db + "' there would continue that chain with its entries, "
                    "and the next ship of '" + *owner + "' would skip (and trim) its own unshipped ones. Nothing "
                    "was shipped. Ship '" + options.db + "' to a directory of its own: `facecrowd oplog ship --db " +
                    options.db + " --backup-dir DIR`");
  ShipResult result;
  OplogTimestamp shipped = catalog.shipped_position();
  result.from = result.to = shipped;
  if (!data.database_exists(options.db)) {
    result.note = "database '" + options.db + "' does not exist in '" + data.root().string() + "'";
    return result;
  }
  auto db = Database::open(data, options.db, {.create_if_missing = false});
  {
    auto txn = db->read();
    OplogTimestamp position = txn.position();
    if (position > shipped) {
      auto range = txn.oplog_range();
      OplogTimestamp from = start_position(catalog, options.db, shipped, range, result.note);
      result.from = result.to = from;
      std::optional<OplogSliceWriter> writer;
      uint64_t slice_bytes = 0;
      OplogTimestamp slice_from = from;
      auto finish_slice = [&] {
        auto path = writer->finish();
        std::error_code ec;
        result.bytes += fs::file_size(path, ec);
        result.slices.push_back(path);
        writer.reset();
        slice_bytes = 0;
      };
      txn.scan_oplog(from, position, [&](OplogTimestamp ts, std::string_view entry) {
        if (result.entries == 0) result.lag_seconds = std::max<int64_t>(0, int64_t(now_secs()) - ts.secs);
        if (!writer) writer.emplace(backup_dir, slice_from, options.db);
        writer->add(ts, entry);
        slice_bytes += entry.size();
        ++result.entries;
        result.to = slice_from = ts;
        if (writer->entries() >= options.max_slice_entries || slice_bytes >= options.max_slice_bytes) finish_slice();
      });
      if (writer) finish_slice();
      shipped = std::max(shipped, result.to);
    } else if (position < shipped) {
      result.note = "the live position " + position.to_string() + " is behind the shipped position " +
                    shipped.to_string() + " (was the database restored?)";
    }
  }
  if (!shipped.is_null()) {
    // Keep the anchor (the entry at the shipped position) and everything younger than keep_live_seconds.
    // Entries of the second now - keep_live_seconds and earlier may go (keep 0: all shipped ones).
    int64_t keep_from = std::max<int64_t>(0, int64_t(now_secs()) - options.keep_live_seconds + 1);
    OplogTimestamp before = std::min(shipped, OplogTimestamp{uint32_t(keep_from), 0});
    auto w = db->write();
    result.trimmed = w.trim_oplog(before);
    w.commit();
  }
  result.pruned = prune_unneeded_slices(catalog, options.db);
  return result;
}

void watch_oplog(const DataDir& data, const fs::path& backup_dir, const ShipOptions& options, int64_t interval_seconds,
                 const std::function<bool()>& should_stop, const std::function<void(const ShipResult&)>& on_result,
                 const std::function<void(const std::exception&)>& on_error) {
  using namespace std::chrono;
  while (!should_stop()) {
    auto next = steady_clock::now() + seconds(interval_seconds);
    try {
      on_result(ship_oplog(data, backup_dir, options));
    } catch (const Error& e) {
      if (e.code() == ExitCode::kNotOurs || e.code() == ExitCode::kUsage || e.code() == ExitCode::kInternal) throw;
      on_error(e);
    } catch (const std::exception& e) {
      on_error(e);
    }
    while (!should_stop() && steady_clock::now() < next) std::this_thread::sleep_for(milliseconds(100));
  }
}

}  // namespace facecrowd
