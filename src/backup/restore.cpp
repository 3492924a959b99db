#include "backup/restore.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <regex>
#include <set>

#include "backup/archive_manifest.h"
#include "backup/catalog.h"
#include "backup/load_pipeline.h"
#include "backup/point_in_time.h"
#include "backup/restore_scan.h"
#include "backup/slice_integrity.h"
#include "core/error.h"
#include "store/audit_seal.h"
#include "core/files.h"
#include "core/input_files.h"
#include "core/utc_time.h"
#include "store/generation_build.h"
#include "store/schema.h"
#include "store/store_damage.h"
#include "store/sqlite_util.h"

namespace facecrowd {
namespace {

constexpr int64_t kBatchDocuments = 50'000;
constexpr size_t kBatchBytes = 64u << 20;

// What the input names, before anything is read.
struct Source {
  fs::path path;
  BackupShape shape = BackupShape::kArchive;
  std::optional<Manifest> early_manifest;  // sidecar copy (archive) or manifest.json (folder): a plan, not proof
  bool early_is_authoritative = false;     // read out of the archive itself (the copy was unusable)
  std::optional<Manifest> sidecar;         // the copy beside an archive as read, to compare at the end
  std::string db;                          // the backup's database, when known up front
  std::string bson_collection;             // kBsonFile
  std::vector<std::string> warnings;       // e.g. a damaged manifest copy that was passed over
};

std::string db_from_backup_name(const std::string& name) {
  static const std::regex re(R"(backup_([A-Za-z0-9_-]+)_\d{8}_\d{6}(\.tar\.gz)?)");
  std::smatch m;
  return std::regex_match(name, m, re) ? m[1].str() : std::string();
}

Source locate(const std::string& input, const RestoreOptions& options) {
  Source src;
  BackupCatalog catalog(options.backup_dir);
  if (input == "latest") {
    std::string db{kDefaultDatabase};
    if (!options.db.empty() && !catalog.latest(db) && catalog.latest(options.db)) db = options.db;
    src.path = options.until ? choose_archive_before(catalog, db, *options.until) : catalog.resolve("latest", db);
  } else {
    src.path = catalog.resolve(input, "");
  }
  src.shape = detect_backup_shape(src.path);
  // A FIFO or device given as the backup would block or never end: only regular files (and folders).
  if (src.shape != BackupShape::kFolder) require_regular_file(src.path, "backup");
  std::error_code ec;
  switch (src.shape) {
    case BackupShape::kArchive: {
      // The copy beside the archive is a cache: when it is damaged, or names another database than the
      // archive's name, the manifest is read out of the archive itself (before any lock is taken).
      std::string problem;
      src.sidecar = read_sidecar_manifest(src.path, &problem);
      std::string named_db = db_from_backup_name(src.path.filename().string());
      if (src.sidecar && !named_db.empty() && src.sidecar->db != named_db)
        problem = "the manifest copy beside '" + src.path.string() + "' is of database '" + src.sidecar->db +
                  "' but the archive is named for '" + named_db + "'";
      if (problem.empty()) {
        src.early_manifest = src.sidecar;
      } else {
        src.sidecar.reset();
        src.warnings.push_back(problem + "; the manifest inside the archive is used instead (rerun `facecrowd "
                               "backup` or copy that manifest out to renew the copy)");
      }
      if (!src.early_manifest && (!problem.empty() || named_db.empty()) &&
          (options.until || !options.collections.empty() || named_db.empty())) {
        src.early_manifest = read_archive_manifest(src.path);
        src.early_is_authoritative = true;
      }
      src.db = src.early_manifest ? src.early_manifest->db : named_db;
      break;
    }
    case BackupShape::kFolder: {
      if (fs::exists(src.path / "manifest.json", ec))
        src.early_manifest = Manifest::parse(read_file(src.path / "manifest.json"), (src.path / "manifest.json").string());
      if (src.early_manifest) {
        src.db = src.early_manifest->db;
      } else {
        std::vector<std::string> dirs;
        for (const auto& e : fs::directory_iterator(src.path))
          if (e.is_directory()) dirs.push_back(e.path().filename());
        if (dirs.size() != 1)
          throw Error(ExitCode::kBadInput, "backup folder '" + src.path.string() +
                                               "' has no manifest.json and not exactly one database folder");
        src.db = dirs[0];
      }
      break;
    }
    case BackupShape::kBsonFile: {
      std::string name = src.path.filename().string();
      src.bson_collection = name.substr(0, name.size() - 5);
      if (!find_collection_spec(src.bson_collection))
        throw Error(ExitCode::kUsage, "'" + src.path.string() + "' is not named after a collection (" +
                                          collection_names_joined() + "): rename it to <collection>.bson");
      if (!options.collections.empty() &&
          (options.collections.size() != 1 || options.collections[0] != src.bson_collection))
        throw Error(ExitCode::kUsage, "'" + src.path.string() + "' holds only collection '" + src.bson_collection +
                                          "'; --collection must name that collection or be left out");
      if (options.until) throw Error(ExitCode::kUsage, "--until needs an archive or folder with an oplog position, not a lone .bson file");
      src.db = options.db.empty() ? std::string(kDefaultDatabase) : options.db;
      break;
    }
  }
  return src;
}

// Loads documents in large transactions: one per batch, not one per document.
class BatchWriter {
 public:
  explicit BatchWriter(Database& db) : db_(db) {}
  Database::WriteTransaction& tx() {
    if (!tx_) tx_.emplace(db_.write());
    return *tx_;
  }
  void added(size_t bytes) {
    bytes_ += bytes;
    if (++documents_ >= kBatchDocuments || bytes_ >= kBatchBytes) commit();
  }
  void commit() {
    if (tx_) tx_->commit();
    tx_.reset();
    documents_ = 0;
    bytes_ = 0;
  }

 private:
  Database& db_;
  std::optional<Database::WriteTransaction> tx_;
  int64_t documents_ = 0;
  size_t bytes_ = 0;
};

struct LiveState {
  bool exists = false;
  std::map<std::string, int64_t> counts;
  OplogTimestamp position;
};

LiveState read_live(Database& live) {
  LiveState state;
  state.exists = true;
  auto r = live.read();
  for (const auto& spec : collection_specs()) state.counts[spec.name] = r.count(spec.name);
  state.position = r.position();
  return state;
}

void copy_generation(Database& live, const fs::path& to) {
  sqlite3* dest = nullptr;
  int rc = sqlite3_open_v2(to.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_backup* backup = sqlite3_backup_init(dest, "main", live.handle(), "main");
    if (backup) {
      rc = sqlite3_backup_step(backup, -1);
      sqlite3_backup_finish(backup);
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    } else {
      rc = sqlite3_errcode(dest);
    }
  }
  if (rc != SQLITE_OK) {
    std::string doing = "copying the live generation '" + live.file().string() + "' to '" + to.string() + "'";
    try {
      throw_sqlite(dest, rc, doing);
    } catch (...) {
      sqlite3_close(dest);
      throw;
    }
  }
  sqlite3_close(dest);
}

std::string env_actor() {
  const char* user = std::getenv("USER");
  return user && *user ? user : "cli";
}

std::vector<SliceInfo> find_slices(const RestoreOptions& options, const Source& src) {
  std::vector<SliceInfo> out;
  std::set<fs::path> seen;
  std::error_code ec;
  for (const fs::path& dir : {options.backup_dir, src.path.parent_path()}) {
    if (dir.empty() || !fs::is_directory(dir, ec)) continue;
    // Only slices of the backup's own database: another database's chain would claim a reach its entries
    // (skipped on replay: they are not this database's) do not give.
    BackupCatalog catalog(dir);
    for (auto& s : src.db.empty() ? catalog.slices() : slices_of_database(catalog, src.db))
      if (seen.insert(fs::weakly_canonical(s.path, ec)).second) out.push_back(s);
  }
  return out;
}

OplogTimestamp shipped_position(const RestoreOptions& options, const Source& src) {
  OplogTimestamp best;
  for (const auto& s : find_slices(options, src)) best = std::max(best, s.to);
  return best;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "nothing" : out;
}

void report(const RestoreOptions& options, const std::string& line) {
  if (options.progress) options.progress(line);
}

}  // namespace

nlohmann::json RestoreResult::to_json() const {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : collections)
    cols.push_back({{"name", c.name}, {"documents_read", c.documents_read}, {"manifest_documents", c.manifest_documents},
                    {"documents_after", c.documents_after}});
  nlohmann::json j = {{"source", source.string()},
                      {"shape", shape_name(shape)},
                      {"source_db", source_db},
                      {"db", db},
                      {"dry_run", dry_run},
                      {"collections", cols},
                      {"documents_decoded", documents_decoded},
                      {"oplog_entries_decoded", oplog_entries_decoded},
                      {"members", members},
                      {"copied_live", copied_live},
                      {"live_damage", live_damage},
                      {"damaged_kept", damaged_kept.string()},
                      {"killed_build_removed", killed_build_removed},
                      {"seconds", seconds},
                      {"warnings", warnings}};
  if (manifest) j["manifest"] = manifest->to_json();
  if (until) {
    nlohmann::json slices = nlohmann::json::array();
    for (const auto& s : slices_used) slices.push_back(s.string());
    j["point_in_time"] = {{"until", until->to_string()},
                          {"until_iso", format_iso8601(int64_t(until->secs) * 1000)},
                          {"window_start", window_start.to_string()},
                          {"window_reach", window_reach.to_string()},
                          {"slices", slices},
                          {"replayed", oplog_replayed},
                          {"replay_seconds", replay_seconds}};
  }
  if (!dry_run) {
    j["position"] = position.to_string();
    j["generation"] = generation.filename().string();
    j["live_entries_carried"] = live_entries_carried;
    j["swap_seconds"] = swap_seconds;
  }
  return j;
}

RestoreResult restore_backup(const fs::path& data_root, const std::string& input, const RestoreOptions& options) {
  auto started = std::chrono::steady_clock::now();
  for (const auto& c : options.collections) require_collection(c);
  Source src = locate(input, options);
  const std::string label = src.path.string();

  // Fail fast on what the plan already shows (the real manifest is checked again at the end). A plan
  // from the cache beside an archive that would refuse is first checked against the archive's own
  // manifest: a stale or damaged cache must not refuse a good backup.
  std::set<std::string> requested(options.collections.begin(), options.collections.end());
  auto check_plan = [&](const Manifest& plan) {
    const auto& have = plan.collections;
    for (const auto& c : requested)
      if (std::find(have.begin(), have.end(), c) == have.end())
        throw Error(ExitCode::kNotFound, "collection '" + c + "' is not in backup '" + label + "' (it holds: " +
                                             join(have) + ")");
    if (options.until && src.shape != BackupShape::kBsonFile)
      require_inside_window(plan_oplog_window(plan, find_slices(options, src)), *options.until);
  };
  if (src.early_manifest) {
    try {
      check_plan(*src.early_manifest);
    } catch (const Error&) {
      if (src.shape != BackupShape::kArchive || src.early_is_authoritative) throw;
      Manifest own = read_archive_manifest(src.path);
      if (own.to_json() != src.early_manifest->to_json())
        src.warnings.push_back("the manifest copy beside '" + label + "' differs from the manifest inside the archive; "
                               "the archive's own was used");
      src.early_manifest = own;
      src.early_is_authoritative = true;
      src.db = own.db;
      check_plan(own);
    }
  }

  RestoreResult result;
  result.source = src.path;
  result.shape = src.shape;
  result.source_db = src.db;
  result.db = !options.db.empty() ? options.db : !src.db.empty() ? src.db : std::string(kDefaultDatabase);
  result.dry_run = options.dry_run;
  result.until = options.until;
  result.warnings = src.warnings;
  validate_database_name(result.db);
  if (src.shape == BackupShape::kBsonFile) result.source_db = result.db;

  auto wants = [&](const std::string& c) { return requested.empty() || requested.count(c) > 0; };

  // The target's current state (a dry run only reads it, and only when it exists).
  std::unique_ptr<Database> live;
  std::optional<DataDir> data;
  std::shared_ptr<DataDirLock> lock;
  LiveState live_state;
  std::error_code ec;
  // A damaged live database is no obstacle to a full restore, which never reads it (restore.h).
  auto read_live_or_damage = [&](const DataDir& dir, bool keep_open) {
    try {
      auto opened = Database::open(dir, result.db, {.create_if_missing = false});
      live_state = read_live(*opened);
      if (keep_open) live = std::move(opened);
    } catch (const Error& e) {
      if (e.code() != kExitDamaged && e.code() != ExitCode::kBadInput) throw;
      live.reset();
      live_state = LiveState{};
      result.live_damage = e.what();
      if (!requested.empty())
        throw Error(kExitDamaged,
                    "cannot restore single collections (" + join(options.collections) + ") into database '" +
                        result.db + "': it cannot be read, and such a restore copies the other collections from it. "
                        "Restore the whole backup instead (`facecrowd restore " + input +
                        " --drop`), which moves the damaged files aside. The damage: " + e.what());
    }
  };
  const bool beside_live = bool(options.quiesce);  // build under a shared lock, exclusive only to swap
  if (!options.dry_run) {
    data = DataDir::open(data_root);
    lock = beside_live ? data->lock(LockMode::kShared, 30'000) : data->lock(LockMode::kExclusive);
    if (data->database_exists(result.db)) read_live_or_damage(*data, true);
    // Not damage: an earlier restore killed while building the first generation (no one holds its claim).
    // install_generation removes it as a stale generation at the swap.
    else result.killed_build_removed = data->killed_first_build(result.db);
  } else if (fs::exists(data_root / "facecrowd-data.json", ec)) {  // DataDir::open would create a missing one
    auto dir = DataDir::open(data_root);
    if (dir.database_exists(result.db)) read_live_or_damage(dir, false);
    if (!result.live_damage.empty())
      result.warnings.push_back("the live database cannot be read; the restore would move its files to '" +
                                (data_root / "damaged").string() + "' and replace it: " + result.live_damage);
  }
  // Names every non-empty collection among `names` (in schema order) with its count.
  auto conflict = [&](const std::set<std::string>& names) {
    std::string list;
    for (const auto& spec : collection_specs())
      if (names.count(spec.name) && live_state.counts[spec.name] > 0)
        list += (list.empty() ? "" : ", ") + std::to_string(live_state.counts[spec.name]) + " documents in '" +
                spec.name + "'";
    return Error(ExitCode::kConflict, "database '" + result.db + "' already has " + list +
                                          "; restore with --drop to replace them, or with --db NAME into another "
                                          "database");
  };

  // A full build from empty unless the target holds collections this restore must keep.
  std::optional<std::set<std::string>> known_set;
  if (!requested.empty()) known_set = requested;
  else if (src.early_manifest) known_set.emplace(src.early_manifest->collections.begin(), src.early_manifest->collections.end());
  else if (src.shape == BackupShape::kBsonFile) known_set = std::set<std::string>{src.bson_collection};
  bool keep_others = false;
  for (const auto& [c, n] : live_state.counts)
    if (n > 0 && (!known_set || !known_set->count(c))) keep_others = true;
  if (!options.dry_run && known_set && !options.drop)
    for (const auto& c : *known_set)
      if (live_state.counts[c] > 0) throw conflict(*known_set);

  GenerationBuild gen;
  std::optional<BatchWriter> writer;
  if (!options.dry_run) {
    gen.begin(*data, result.db);
    report(options, "building " + gen.file.string());
    if (keep_others) {
      copy_generation(*live, gen.file);
      result.copied_live = true;
      gen.db = Database::open_generation(gen.file, result.db, false);
    } else {
      gen.db = Database::open_generation(gen.file, result.db, true);
    }
    live.reset();  // every connection to the old generation closes before the swap
    writer.emplace(*gen.db);
  }

  // Stream, check and load.
  std::vector<OplogEntry> archive_entries;
  std::string loading;  // "member, document #n" for messages
  RestoreScan::Callbacks callbacks;
  LoadPipeline pipeline;  // the reader runs on a worker thread, SQLite on this one (load_pipeline.h)
  callbacks.wants = wants;
  callbacks.on_collection_start = [&](const std::string& c) {
    report(options, "loading " + c);
    if (live_state.counts[c] == 0 || options.dry_run) return;
    if (!options.drop) throw conflict({c});
    if (result.copied_live) pipeline.push_clear(c);
  };
  // The audit chain's head as the loaded entries give it, found on the reader thread as they pass: the
  // restore's own audit entry would otherwise read every entry back twice to find it (a fifth of the
  // restore's CPU time with 500,000 entries).
  AuditChainHead loaded_audit_head;
  if (!options.dry_run)
    callbacks.on_document = [&](const std::string& c, const uint8_t* doc, size_t size, int64_t index) {
      if (c == "auditlogs") {
        bson_t view;
        if (bson_init_static(&view, doc, size)) fold_audit_chain_head(loaded_audit_head, &view);
      }
      pipeline.push_document(c, doc, size, index);
    };
  callbacks.on_oplog_entry = [&](OplogEntry e) {
    if (options.until && e.ts < *options.until) archive_entries.push_back(std::move(e));
  };
  RestoreScan scan(label, src.shape == BackupShape::kBsonFile ? result.source_db : src.db, callbacks);
  ReadSummary summary;
  auto read_all = [&] {
    switch (src.shape) {
      case BackupShape::kArchive: summary = read_archive(src.path, scan); break;
      case BackupShape::kFolder: summary = read_folder(src.path, scan); break;
      case BackupShape::kBsonFile: summary = read_bson_file(src.path, result.source_db, src.bson_collection, scan); break;
    }
  };
  if (!writer) {
    read_all();
  } else {
    pipeline.run([&](LoadPipeline&) { read_all(); }, [&](const std::string& c) { writer->tx().clear(c); },
                 [&](const std::string& c, const uint8_t* doc, size_t size, int64_t index) {
                   try {
                     writer->tx().load(c, doc, size);
                     writer->added(size);
                   } catch (const Error& e) {
                     // Every restored collection is empty or cleared here, so a key conflict is two
                     // documents of the backup with one _id: a bad backup (3), as verify says.
                     throw Error(e.code() == ExitCode::kConflict ? ExitCode::kBadInput : e.code(),
                                 "backup '" + label + "', " + result.source_db + "/" + c +
                                               ".bson, document #" + std::to_string(index) +
                                               " (or the batch before it): " + e.what());
                   }
                 });
  }
  scan.finish(src.shape == BackupShape::kArchive);
  if (writer) {
    try {
      writer->commit();
    } catch (const Error& e) {
      throw Error(e.code(), "backup '" + label + "': writing the last batch to '" + gen.file.string() + "': " + e.what());
    }
  }
  result.manifest = scan.manifest();
  if (result.manifest) {
    if (src.sidecar && !src.early_is_authoritative && src.sidecar->to_json() != result.manifest->to_json())
      result.warnings.push_back("the manifest copy beside '" + label + "' differs from the manifest inside the "
                                "archive (the copy is a cache; the archive's own was checked and used)");
    if (options.db.empty() && src.shape != BackupShape::kBsonFile && result.manifest->db != result.db)
      throw Error(ExitCode::kBadInput, "backup '" + label + "' is of database '" + result.manifest->db +
                                           "' but its name or manifest copy said '" + result.db +
                                           "'; nothing was changed (name the target with --db)");
    result.source_db = result.manifest->db;
  }
  if (options.on_scanned) options.on_scanned(scan.ledger_copy(), result.manifest);
  result.members = summary.members;
  result.documents_decoded = scan.total_documents();
  result.oplog_entries_decoded = scan.oplog_entries();

  // What was restored, proven against what was read and the manifest.
  std::vector<std::string> restored;
  for (const auto& c : scan.collections())
    if (wants(c)) restored.push_back(c);
  for (const auto& c : requested)
    if (std::find(restored.begin(), restored.end(), c) == restored.end())
      throw Error(ExitCode::kNotFound, "collection '" + c + "' is not in backup '" + label + "' (it holds: " +
                                           join(scan.collections()) + ")");
  if (!options.dry_run && !result.copied_live)
    for (const auto& [c, n] : live_state.counts)
      if (n > 0 && std::find(restored.begin(), restored.end(), c) == restored.end())
        throw Error(ExitCode::kBadInput, "backup '" + label + "' does not hold collection '" + c +
                                             "' although its manifest copy said so; nothing was changed, restore again");
  for (const auto& c : restored) {
    CollectionResult cr{c, scan.documents().at(c), -1, scan.documents().at(c)};
    if (result.manifest)
      if (auto* f = result.manifest->find_file(result.manifest->db + "/" + c + ".bson")) cr.manifest_documents = f->documents;
    result.collections.push_back(cr);
    if (options.dry_run && live_state.counts[c] > 0 && !options.drop)
      result.warnings.push_back("database '" + result.db + "' already has " + std::to_string(live_state.counts[c]) +
                                " documents in '" + c + "': the restore would stop with a conflict without --drop");
  }
  if (!options.dry_run) {
    auto r = gen.db->read();
    for (const auto& cr : result.collections) {
      int64_t stored = r.count(cr.name);
      if (stored != cr.documents_read)
        throw Error(ExitCode::kInternal, "restore of '" + cr.name + "' from '" + label + "' stored " +
                                             std::to_string(stored) + " documents but read " +
                                             std::to_string(cr.documents_read));
    }
  }

  std::set<std::string> restored_set(restored.begin(), restored.end());
  // The auditlogs table holds exactly the loaded entries (a fresh generation, or a copy whose auditlogs
  // was cleared before the load): their head is the table's, cached as a live store caches it. Whatever
  // changes the log afterwards keeps the cache right or drops it (replay and load drop every "cache."
  // key; audited writes update it), as in live operation.
  if (!options.dry_run && loaded_audit_head.seq > 0 && (!result.copied_live || restored_set.count("auditlogs"))) {
    auto tx = gen.db->write();
    cache_audit_chain_head(tx, loaded_audit_head);
    tx.commit();
  }

  // Point in time: the archive's oplog, then the shipped slices that continue it, streamed (never all
  // in memory) into the new generation; a corrupt slice still aborts before the swap.
  std::optional<OplogWindow> window;
  auto wanted = [&](const OplogEntry& e) {
    auto dot = e.ns.find('.');
    return e.op != 'n' && dot != std::string::npos && e.ns.substr(0, dot) == result.source_db &&
           restored_set.count(e.collection()) > 0;
  };
  if (options.until) {
    if (!result.manifest)
      throw Error(ExitCode::kUsage, "--until needs a backup with a manifest (its oplog position); '" + label + "' has none");
    auto all_slices = find_slices(options, src);
    window = plan_oplog_window(*result.manifest, all_slices);
    require_inside_window(*window, *options.until);
    result.window_start = window->start;
    result.window_reach = window->reach;
    std::vector<SliceInfo> needed;
    for (const auto& s : window->slices)
      if (s.from < *options.until) {
        result.slices_used.push_back(s.path);
        // Only a slice that can hold entries before the limit (from < ts < until) must be intact.
        if (OplogTimestamp{s.from.secs, s.from.inc + 1} < *options.until) needed.push_back(s);
      }
    require_intact_slices(needed, all_slices);  // a shortened slice must not pass as full coverage
  }

  if (options.dry_run) {
    if (window)
      for_each_replay_entry(*window, archive_entries, *options.until, [&](const OplogEntry& e) {
        if (wanted(e)) ++result.oplog_replayed;
      });
    for (auto& cr : result.collections) {
      // Replayed entries change counts in ways only applying them shows; report what was read.
      cr.documents_after = cr.documents_read;
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  }

  OplogTimestamp last_replayed;
  if (window) {
    report(options, "replaying oplog entries before " + oplog_position_text(*options.until));
    auto replay_started = std::chrono::steady_clock::now();
    auto tx = gen.db->write();
    for_each_replay_entry(*window, archive_entries, *options.until, [&](const OplogEntry& e) {
      if (!wanted(e)) return;
      try {
        tx.replay(e);
      } catch (const Error& err) {
        throw Error(err.code(), "replaying oplog entry " + e.ts.to_string() + " (" + e.ns + "): " + err.what());
      }
      ++result.oplog_replayed;
      last_replayed = e.ts;
    });
    tx.commit();
    result.replay_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - replay_started).count();
  }
  if (!options.after_load.empty()) {
    auto tx = gen.db->write();
    for (const auto& hook : options.after_load) hook(tx);
    tx.commit();
  }
  for (const auto& hook : options.before_swap) hook(*gen.db);

  report(options, "building indexes");
  try {
    gen.db->finish_bulk_load();
  } catch (const Error& e) {
    // A unique index (users.username) that cannot be built: two documents of the backup share the value.
    if (e.code() != ExitCode::kConflict) throw;
    throw Error(ExitCode::kBadInput, "backup '" + label + "': " + e.what() +
                                         " (two documents of the backup share a value that must be unique)");
  }

  // The swap. Beside a live store, this process's other threads are stopped first (quiesce), then the
  // exclusive lock is taken: from here on nobody else reads or writes the live generation.
  const auto swap_started = std::chrono::steady_clock::now();
  std::shared_ptr<DataDirLock> exclusive;
  if (beside_live) {
    report(options, "swapping: waiting for the store's other users to finish");
    options.quiesce();
    exclusive = data->lock(LockMode::kExclusive, options.swap_lock_wait_ms);
  }
  // What the live store did while the generation was built (restore.h's rule). Under the exclusive lock
  // from the start this finds the state read then.
  LiveState live_now = live_state;
  std::vector<OplogEntry> carried;
  if (live_state.exists) {
    auto opened = Database::open(*data, result.db, {.create_if_missing = false});
    live_now = read_live(*opened);
    if (result.copied_live && live_state.position < live_now.position) {
      auto r = opened->read();
      r.scan_oplog(live_state.position, live_now.position, [&](OplogTimestamp ts, std::string_view raw) {
        auto e = decode_oplog_entry(reinterpret_cast<const uint8_t*>(raw.data()), raw.size(),
                                    "live oplog entry " + ts.to_string());
        if (e.op != 'n' && !restored_set.count(e.collection())) carried.push_back(std::move(e));
      });
    }
  }
  if (!options.drop)
    for (const auto& cr : result.collections)
      if (live_state.counts[cr.name] == 0 && live_now.counts[cr.name] > 0)
        throw Error(ExitCode::kConflict, "database '" + result.db + "' got " + std::to_string(live_now.counts[cr.name]) +
                                             " documents in '" + cr.name + "' while the restore ran; nothing was "
                                             "changed. Restore with --drop to replace them, or with --db NAME into "
                                             "another database");
  if (!carried.empty()) {
    auto tx = gen.db->write();
    for (const auto& e : carried) tx.replay(e);
    tx.commit();
    result.live_entries_carried = int64_t(carried.size());
  }
  for (const auto& hook : options.at_swap) hook(*gen.db);

  // Record the restore in the new generation: its position continues after everything seen so far,
  // the live store's writes during the build included.
  {
    auto tx = gen.db->write();
    OplogTimestamp highest = std::max({live_state.position, live_now.position, last_replayed, shipped_position(options, src)});
    if (result.manifest) highest = std::max({highest, result.manifest->oplog_end, result.window_reach});
    tx.advance_position(highest);
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& cr : result.collections) counts[cr.name] = cr.documents_read;
    nlohmann::json note = {{"restore", src.path.filename().string()}, {"db", result.db}, {"collections", counts}};
    if (options.until) note["until"] = options.until->to_string();
    tx.note(Document::from_json(note, "restore note"));
    nlohmann::json details = {{"source", src.path.string()},
                              {"shape", shape_name(src.shape)},
                              {"db", result.db},
                              {"drop", options.drop},
                              {"collections", counts},
                              {"replayed", result.oplog_replayed}};
    if (options.until) details["until"] = options.until->to_string();
    insert_sealed_audit_entry(tx, Document::from_json({{"timestamp", {{"$date", now_millis()}}},
                                                {"actor", options.actor.empty() ? env_actor() : options.actor},
                                                {"action", "restore"},
                                                {"target", src.path.filename().string()},
                                                {"outcome", "ok"},
                                                {"details", details}},
                                               "audit entry"),
                              /*may_start_chain=*/false);
    tx.commit();
  }
  {
    auto r = gen.db->read();
    for (auto& cr : result.collections) cr.documents_after = r.count(cr.name);
    result.position = r.position();
  }
  gen.db.reset();
  fsync_path(gen.file);
  fsync_path(gen.file.parent_path());
  if (!result.live_damage.empty()) result.damaged_kept = set_aside_damaged(*data, result.db, gen.file);
  data->install_generation(result.db, gen.file);
  gen.installed = true;
  result.swap_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - swap_started).count();
  result.generation = gen.file;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace facecrowd
