#include "store/repair.h"

#include <sqlite3.h>

#include <cstdio>

#include "core/error.h"
#include "core/files.h"
#include "store/sqlite_util.h"
#include "store/store_damage.h"

namespace facecrowd {

RepairResult repair_use_generation(const fs::path& data_root, const std::string& db, uint64_t generation) {
  validate_database_name(db);
  std::error_code ec;
  if (!fs::exists(data_root / "facecrowd-data.json", ec))
    throw Error(ExitCode::kNotOurs, "'" + data_root.string() + "' is not a facecrowd data directory (no facecrowd-data.json)");
  auto dir = DataDir::open(data_root);
  auto lock = dir.lock(LockMode::kExclusive);
  char name[40];
  std::snprintf(name, sizeof name, "gen-%06llu.sqlite", static_cast<unsigned long long>(generation));
  fs::path file = data_root / db / name;
  if (!fs::is_regular_file(file, ec))
    throw Error(ExitCode::kNotFound, "generation file '" + file.string() + "' does not exist; " +
                                         damaged_store_error(dir, db, "looking for generation " + std::to_string(generation)).what());
  RepairResult result;
  result.generation = file;
  {
    sqlite3* handle = nullptr;
    int rc = sqlite3_open_v2(file.c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr);
    auto refuse = [&](const std::string& why) {
      sqlite3_close(handle);
      throw Error(kExitDamaged, "generation file '" + file.string() + "' is not intact (" + why +
                                          "); nothing was changed. Choose another generation, or restore a backup: "
                                          "`facecrowd restore latest --drop`");
    };
    if (rc != SQLITE_OK) refuse(handle ? sqlite3_errmsg(handle) : sqlite3_errstr(rc));
    sqlite3_stmt* st = nullptr;
    // quick_check reads every page (O(N), not the full index cross-check of integrity_check).
    if (sqlite3_prepare_v2(handle, "PRAGMA quick_check", -1, &st, nullptr) != SQLITE_OK) refuse(sqlite3_errmsg(handle));
    std::string verdict;
    if (sqlite3_step(st) == SQLITE_ROW) verdict = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    else verdict = sqlite3_errmsg(handle);
    sqlite3_finalize(st);
    if (verdict != "ok") refuse("quick_check: " + verdict);
    if (sqlite3_prepare_v2(handle, "SELECT value FROM meta WHERE key='schema_version'", -1, &st, nullptr) != SQLITE_OK)
      refuse(std::string("no facecrowd schema: ") + sqlite3_errmsg(handle));
    bool has_version = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!has_version) refuse("no facecrowd schema version");
    if (sqlite3_prepare_v2(handle, "PRAGMA page_count", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      result.pages_checked = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(handle);
  }
  result.damaged_kept = set_aside_damaged(dir, db, file);
  write_file_durably(data_root / db / "CURRENT", std::string(name) + "\n");
  return result;
}

}  // namespace facecrowd
