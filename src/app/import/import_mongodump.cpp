// `facecrowd import` (app/import/import_mongodump.h): checks the target, stages the dump, opens the new
// generation, runs the sections (app/import/import_run.h) and, after checking what was written, swaps it in.
#include "app/import/import_mongodump.h"

#include <stdlib.h>

#include <chrono>

#include "app/records/audit.h"
#include "app/import/import_run.h"
#include "core/error.h"
#include "core/files.h"
#include "core/input_files.h"
#include "store/data_dir.h"
#include "store/file_store.h"
#include "store/generation_build.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

constexpr uint64_t kMaxMappingBytes = 1 << 20;

// ---- staging folder and the generation being built ----

struct Staging {
  fs::path dir;
  explicit Staging(const fs::path& parent) {
    std::string pattern = (parent / "facecrowd-import-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw_io_error("cannot create the import's staging folder in", parent, errno);
    dir = pattern;
  }
  ~Staging() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// The target must be new or empty; checked before the dump is read, and again under the lock.
// live_documents: how many documents the data directory's database holds, and which ("users: 3, ...").
std::pair<int64_t, std::string> live_documents(const DataDir& dir, const std::string& db_name) {
  std::string list;
  int64_t total = 0;
  if (!dir.database_exists(db_name)) return std::make_pair(total, list);
  auto live = Database::open(dir, db_name, {.create_if_missing = false});
  auto r = live->read();
  for (const auto& spec : collection_specs()) {
    int64_t n = r.count(spec.name);
    if (n > 0) list += (list.empty() ? "" : ", ") + spec.name + ": " + std::to_string(n);
    total += n;
  }
  return std::make_pair(total, list);
}

Error not_empty(const fs::path& data_root, const std::pair<int64_t, std::string>& live) {
  return Error(ExitCode::kConflict, "data directory '" + data_root.string() + "' already holds " +
                                        std::to_string(live.first) + " documents (" + live.second +
                                        "); import only into a new or empty data directory (e.g. --data NEW_DIR), "
                                        "so nothing is merged into live data; nothing was changed");
}

// Check what was written, record the import, swap.
void check_record_and_install(GenerationBuild& gen, DataDir& data, const ImportMapping& mapping, const ImportOptions& options,
                              ImportReport& report, const std::chrono::steady_clock::time_point started) {
  const std::string db_name(kDefaultDatabase);
  {
    auto r = gen.db->read();
    std::map<std::string, int64_t> expected;
    for (const auto& c : report.collections)
      if (!c.as.empty() && c.as != "fs.chunks" && c.as != "fs.files") expected[c.as] += c.imported;
    for (const auto& [coll, n] : expected)
      if (r.count(coll) != n)
        throw Error(ExitCode::kInternal, "import check: " + coll + " holds " + std::to_string(r.count(coll)) +
                                             " documents, " + std::to_string(n) + " were imported; nothing was changed");
    int64_t files = 0;
    r.find("fs.files", Query{}, [&](const Document& f) {
      get_file(r, *f.id_key());  // chunk numbering, sizes, length and sha256, or Error(kBadInput)
      ++files;
      return true;
    });
    if (files != report.files_imported - report.files_deduplicated)
      throw Error(ExitCode::kInternal, "import check: fs.files holds " + std::to_string(files) + " files, expected " +
                                           std::to_string(report.files_imported - report.files_deduplicated));
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto tx = gen.db->write();
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& c : report.collections)
    counts[c.source] = {{"as", c.as.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.as)},
                        {"documents", c.documents}, {"imported", c.imported}, {"refused", c.refused}};
  nlohmann::json details = {{"source", report.source},
                            {"shape", report.shape},
                            {"sourceDb", report.source_db},
                            {"mapping", report.mapping},
                            {"mappingSha256", mapping.text_sha256},
                            {"collections", counts},
                            {"files", report.files_imported},
                            {"embeddings", report.embedding_decision},
                            {"sampleChecked", report.sample_checked},
                            {"sampleMaxDistance", report.sample_max_distance},
                            {"flaggedProfiles", int64_t(report.flagged.size())}};
  tx.note(Document::from_json({{"import", report.source}, {"db", db_name}}, "import note"));
  report.audit_id = append_audit(tx, AuditEntry{.action = "import",
                                                .target = report.source,
                                                .actor = options.actor.empty() ? std::nullopt : std::optional<std::string>(options.actor),
                                                .details = details});
  tx.commit();
  {
    auto r = gen.db->read();
    for (const auto& spec : collection_specs()) report.counts_after[spec.name] = r.count(spec.name);
  }
  gen.db.reset();
  fsync_path(gen.file);
  fsync_path(gen.file.parent_path());
  data.install_generation(db_name, gen.file);
  gen.installed = true;
}

}  // namespace

ImportReport import_mongodump(const fs::path& data_root, const ImportOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  const std::string db_name(kDefaultDatabase);

  // The mapping first: a bad one is refused before any work.
  ImportMapping mapping = options.mapping_file
                              ? ImportMapping::parse(read_regular_file(*options.mapping_file, kMaxMappingBytes, "mapping"),
                                                     "mapping '" + options.mapping_file->string() + "'")
                              : ImportMapping::default_mapping();
  ImportReport report;
  report.dry_run = options.dry_run;
  report.mapping = options.mapping_file ? options.mapping_file->string() : "default";

  // Checked here without creating anything (a bad dump must not leave a data directory behind), and again
  // under the exclusive lock once the dump has been read and the mapping checked.
  std::optional<DataDir> data;
  std::shared_ptr<DataDirLock> lock;
  std::error_code ec;
  if (fs::exists(data_root / "facecrowd-data.json", ec)) {
    auto live = live_documents(DataDir::open(data_root), db_name);
    if (live.first > 0 && !options.dry_run) throw not_empty(data_root, live);
    if (live.first > 0) report.warnings.push_back(not_empty(data_root, live).what());
  } else if (!options.dry_run && fs::exists(data_root, ec) && !fs::is_empty(data_root, ec)) {
    DataDir::open(data_root);  // Error(kNotOurs): a non-empty folder facecrowd did not create
  }

  // Stage the dump.
  fs::path parent = options.staging_parent.empty() ? fs::temp_directory_path() : options.staging_parent;
  Staging staging(parent);
  say("reading " + (options.input == "-" ? std::string("standard input") : options.input));
  MongoDump dump = stage_mongodump(options.input, staging.dir);
  report.source = dump.source;
  report.shape = dump.shape;
  report.ignored = dump.ignored;
  std::vector<ImportCollectionReport> unknown;
  ImportSourcesByTarget by_as = plan_import_sources(dump, mapping, options, report, unknown);

  // The generation the import builds (not in a dry run).
  GenerationBuild gen;
  if (!options.dry_run) {
    data = DataDir::open(data_root);
    lock = data->lock(LockMode::kExclusive);
    auto live = live_documents(*data, db_name);
    if (live.first > 0) throw not_empty(data_root, live);
    // Not damage: an earlier import (or restore) killed while building the first generation; its claim is
    // dead. install_generation removes that generation as a stale one at the swap.
    report.killed_build_removed = data->killed_first_build(db_name);
    // Built under a BUILDING claim, as restore builds: an import killed while building the database's FIRST
    // generation is then recognised by the rerun (DataDir::killed_first_build), not taken for damage.
    gen.begin(*data, db_name);
    gen.db = Database::open_generation(gen.file, db_name, false);
  }
  ImportWriter writer(gen.db.get());
  ImportRun run{.options = options, .mapping = mapping, .report = report, .writer = writer, .by_as = std::move(by_as)};
  run.mapped_reports.reserve(dump.collections.size());

  import_gridfs(run);
  import_users(run);
  import_profiles(run);
  import_attendances(run);
  import_crowd_counts(run);
  import_audit_logs(run);

  for (auto& u : unknown) run.mapped_reports.push_back(std::move(u));
  report.collections = std::move(run.mapped_reports);
  for (const auto& c : report.collections) report.documents_imported += c.imported;

  // Check what was written, record the import, swap.
  if (writer.active()) {
    say("checking the imported data");
    check_record_and_install(gen, *data, mapping, options, report, started);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace facecrowd
