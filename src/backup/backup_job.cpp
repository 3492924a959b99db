#include "backup/backup_job.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdio.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <cstdio>
#include <thread>

#include "backup/archive_manifest.h"
#include "backup/archive_writer.h"
#include "backup/backup_cleanup.h"
#include "backup/catalog.h"
#include "backup/collection_metadata.h"
#include "backup/oplog_shipper.h"
#include "backup/restore_scan.h"
#include "core/display_text.h"
#include "core/error.h"
#include "store/audit_seal.h"
#include "core/file_lock.h"
#include "core/files.h"
#include "core/utc_time.h"
#include "store/database.h"
#include "store/file_hash_check.h"
#include "store/ledger_fingerprint.h"
#include "store/store_check.h"
#include "store/schema.h"
#include "store/sqlite_util.h"

namespace facecrowd {
namespace {

namespace fs = std::filesystem;

// A progress line on stderr, redrawn at most four times a second.
class ProgressLine {
 public:
  ProgressLine(bool enabled, uint64_t total) : enabled_(enabled), total_(total) {}
  void update(uint64_t done, const std::string& what) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    double pct = total_ ? 100.0 * double(done) / double(total_) : 100.0;
    std::fprintf(stderr, "\rbackup: %5.1f%%  %.1f of %.1f MB  %-24s", pct, double(done) / 1e6, double(total_) / 1e6,
                 what.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void finish() {
    if (shown_) std::fprintf(stderr, "\r%79s\r", "");
    shown_ = false;
  }
  ~ProgressLine() { finish(); }

 private:
  bool enabled_;
  uint64_t total_;
  std::chrono::steady_clock::time_point last_{};
  bool shown_ = false;
};

// rename(2) that refuses to replace an existing file: two backups started in the same second by two
// processes must not silently overwrite each other.
void rename_no_replace_durably(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EEXIST) throw Error(ExitCode::kConflict, "backup archive '" + to.string() + "' appeared meanwhile (another backup?)");
    if (err != EINVAL && err != ENOSYS) throw_io_error("cannot rename to", to, err);
    std::error_code ec;
    if (fs::exists(to, ec)) throw Error(ExitCode::kConflict, "backup archive '" + to.string() + "' appeared meanwhile (another backup?)");
    rename_durably(from, to);
    return;
  }
  fsync_path(to.parent_path().empty() ? fs::path(".") : to.parent_path());
}


// A free archive name for a backup starting now; waits for the next second while the name is taken.
std::pair<fs::path, UnixMillis> pick_archive_name(const fs::path& dir, const std::string& db) {
  for (;;) {
    UnixMillis created = now_millis();
    fs::path final_path = dir / archive_file_name(db, created);
    std::error_code ec;
    if (!fs::exists(final_path, ec) && !partial_in_progress(final_path)) return {final_path, created};
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 - created % 1000 + 1));
  }
}

std::string strip_prefix(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0 ? s.substr(prefix.size()) : s;
}

struct Dump {
  Manifest manifest;
  nlohmann::json counts = nlohmann::json::object();
};

// Everything written goes through here: to the archive, and through the same RestoreScan a restore runs,
// so a backup proves while it writes that a restore would accept every member, document and count
// (DESIGN invariant 8), and stored files' hashes are checked as their chunks pass.
class CheckedWriter {
 public:
  CheckedWriter(ArchiveWriter& writer, const std::string& top, const std::string& label, const std::string& db,
                bool check_files)
      : writer_(writer), top_(top), scan_(label, db, callbacks(check_files)) {
    scan_.hash_members_elsewhere();  // the writer hashes every member already
  }

  void begin_member(const std::string& path, uint64_t size) {
    writer_.begin_member(path, size);
    scan_.begin_member(strip_prefix(path, top_), size);
  }
  void write(std::string_view bytes) {
    writer_.write(bytes);
    scan_.member_data(bytes.data(), bytes.size());
  }
  ManifestFile end_member(int64_t documents = -1) {
    ManifestFile written = writer_.end_member(documents);
    scan_.end_member(written.sha256);
    return written;
  }
  ManifestFile add_member(const std::string& path, std::string_view content) {
    begin_member(path, content.size());
    write(content);
    return end_member();
  }
  uint64_t input_bytes() const { return writer_.input_bytes(); }
  // After the manifest member: what a restore's final comparison would say.
  void finish() { scan_.finish(true); }
  FileHashCheck& files() { return files_; }

 private:
  RestoreScan::Callbacks callbacks(bool check_files) {
    RestoreScan::Callbacks cb;
    if (!check_files) return cb;
    cb.wants = [](const std::string& c) { return c == "fs.files" || c == "fs.chunks"; };
    cb.on_document = [this](const std::string& c, const uint8_t* doc, size_t size, int64_t) {
      if (c == "fs.files") files_.add_file(doc, size);
      else files_.add_chunk(doc, size);
    };
    return cb;
  }

  ArchiveWriter& writer_;
  std::string top_;
  FileHashCheck files_;
  RestoreScan scan_;
};

// Writes every member into `out`; fills `dump` as it goes (so a failure still reports counts so far).
// The erasure ledger as it is now (read after the snapshot began, so it holds every erasure the snapshot
// sees: erasures append their line before they commit). Refuses a ledger that lost what the database
// recorded of it: carrying the shortened ledger into every new backup would make the loss permanent.
std::string read_ledger_for_backup(Database& database, const fs::path& ledger) {
  const std::string& db = database.name();
  std::error_code ec;
  auto st = fs::status(ledger, ec);
  std::string text;
  if (fs::exists(st)) {
    if (!fs::is_regular_file(st))
      throw Error(ExitCode::kBadInput, "backup refused: the erasure ledger '" + ledger.string() +
                                           "' is not a regular file; run `facecrowd person erasures` for how to recover it");
    text = read_file(ledger);
  }
  if (auto recorded = recorded_ledger(database); recorded && !ledger_starts_with(text, *recorded))
    throw Error(ExitCode::kBadInput, "backup refused: the erasure ledger '" + ledger.string() + "' " +
                                         (fs::exists(st) ? "holds " + fingerprint_ledger(text).text() : std::string("is missing")) +
                                         ", but database '" + db + "' recorded " + recorded->text() +
                                         " at its last erasure: erasures were lost. Run `facecrowd person erasures` "
                                         "for where an intact copy is, put it back, then back up again");
  return text;
}

void write_members(Database& db, ArchiveWriter& archive, const std::vector<std::string>& collections,
                   UnixMillis created, bool progress, const fs::path& ledger_path, Dump& dump) {
  Manifest& m = dump.manifest;
  const std::string top = "backup_" + db.name() + "_" + format_compact(created) + "/";
  const bool check_files = std::find(collections.begin(), collections.end(), "fs.files") != collections.end() &&
                           std::find(collections.begin(), collections.end(), "fs.chunks") != collections.end();
  CheckedWriter writer(archive, top, "being written, " + archive_file_name(db.name(), created), db.name(), check_files);
  auto add_file = [&](ManifestFile f) {
    f.path = strip_prefix(f.path, top);
    m.files.push_back(std::move(f));
  };
  std::string ledger_text;

  {
    auto txn = db.read();  // one snapshot for every collection
    m.oplog_start = txn.position();
    ledger_text = read_ledger_for_backup(db, ledger_path);  // on the snapshot's connection
    // The audit chain's head at the snapshot (app/records/audit_chain.h): a later edit or truncation of the live
    // log is found by `audit verify --against` this archive.
    auto head = read_audit_chain_head(txn);
    m.audit_chain_seq = head.seq;
    m.audit_chain_hash = head.seq > 0 ? head.hash : "";
    struct Planned {
      std::string name;
      int64_t bytes, count;
    };
    std::vector<Planned> plan;
    uint64_t total = 0;
    for (const auto& c : collections) {
      plan.push_back({c, txn.document_bytes(c), txn.count(c)});
      total += uint64_t(plan.back().bytes);
    }
    ProgressLine line(progress, total);
    for (const auto& p : plan) {
      const std::string base = top + db.name() + "/" + p.name;
      add_file(writer.add_member(base + ".metadata.json", collection_metadata_json(*find_collection_spec(p.name)).dump(2)));
      writer.begin_member(base + ".bson", uint64_t(p.bytes));
      int64_t documents = 0;
      uint64_t base_input = writer.input_bytes();
      // Every document with its stored _id (the table's key, readable when the BSON is not), on the
      // snapshot's connection, so a refusal can name the record to repair.
      Statement rows(db.handle(), "SELECT _id, doc FROM " + quote_identifier(p.name));
      while (rows.step("reading " + p.name)) {
        std::string_view id = rows.column_blob(0), bson = rows.column_blob(1);
        ++documents;
        if (auto defect = document_defect(reinterpret_cast<const uint8_t*>(bson.data()), bson.size()))
          throw Error(ExitCode::kBadInput, "backup refused: the document with _id '" + shortened(id, 100) + "' of '" +
                                               p.name + "' in database '" + db.name() + "' (document #" +
                                               std::to_string(documents) + " of the collection) " + *defect +
                                               ", so no restore could load this archive. Run `facecrowd check` to "
                                               "list every damaged record, then repair or remove it");
        writer.write(bson);
        line.update(writer.input_bytes() - base_input, p.name);
      }
      if (documents != p.count)
        throw Error(ExitCode::kInternal, "collection '" + p.name + "' yielded " + std::to_string(documents) +
                                             " documents in a snapshot that counted " + std::to_string(p.count));
      add_file(writer.end_member(documents));
      dump.counts[p.name] = documents;
    }
    if (check_files) {
      auto damaged = writer.files().finish(&txn);
      if (!damaged.empty()) {
        std::string list;
        for (size_t i = 0; i < damaged.size() && i < 5; ++i) list += (i ? "; " : "") + damaged[i];
        throw Error(ExitCode::kBadInput, "backup refused: " + std::to_string(damaged.size()) + " stored files of '" +
                                             db.name() + "' are damaged (" + list + (damaged.size() > 5 ? "; …" : "") +
                                             "). Run `facecrowd check` for the full list; restore those files from an "
                                             "earlier backup or remove the records that point to them");
      }
    }
  }

  {
    auto txn = db.read();  // sees everything committed while the collections were dumped
    m.oplog_end = txn.position();
    // An oplog ship trims entries it has shipped but keeps the one at its position, so a live oplog that
    // now starts after our snapshot position means entries this archive needs were trimmed meanwhile.
    auto live = txn.oplog_range();
    if (!m.oplog_start.is_null() && live.entries > 0 && live.first > m.oplog_start)
      throw Error(ExitCode::kConflict, "oplog entries after the snapshot position " + m.oplog_start.to_string() +
                                           " were trimmed while the backup ran (the live oplog now starts at " +
                                           live.first.to_string() + "); run the backup again");
    uint64_t bytes = 0;
    int64_t entries = 0;
    txn.scan_oplog(m.oplog_start, m.oplog_end, [&](OplogTimestamp, std::string_view e) {
      bytes += e.size();
      ++entries;
    });
    writer.begin_member(top + "oplog.bson", bytes);
    int64_t written = 0;
    txn.scan_oplog(m.oplog_start, m.oplog_end, [&](OplogTimestamp, std::string_view e) {
      writer.write(e);
      ++written;
    });
    if (written != entries)
      throw Error(ExitCode::kInternal, "the oplog changed within one read snapshot (" + std::to_string(entries) +
                                           " then " + std::to_string(written) + " entries)");
    add_file(writer.end_member(written));
    m.oplog_entries = written;
  }
  add_file(writer.add_member(top + kErasureLedgerMember, ledger_text));
  m.erasure_ledger = fingerprint_ledger(ledger_text);
  writer.add_member(top + "manifest.json", m.to_json().dump(2));
  writer.finish();
}

void append_log_line(const fs::path& backup_dir, const nlohmann::json& line, std::vector<std::string>* warnings) {
  try {
    append_line_durably(BackupCatalog(backup_dir).log_file(), line.dump());
  } catch (const Error& e) {
    if (warnings) warnings->push_back(std::string("backup log not written: ") + e.what());
  }
}

}  // namespace

std::vector<std::string> backup_collections(const std::vector<std::string>& names) {
  for (const auto& n : names) require_collection(n);
  std::vector<std::string> out;
  for (const auto& spec : collection_specs())
    if (names.empty() || std::find(names.begin(), names.end(), spec.name) != names.end()) out.push_back(spec.name);
  return out;
}

nlohmann::json manifest_counts(const Manifest& manifest) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& c : manifest.collections)
    if (const auto* f = manifest.find_file(manifest.db + "/" + c + ".bson")) counts[c] = f->documents;
  return counts;
}

BackupResult run_backup(const DataDir& data, const fs::path& backup_dir, const BackupOptions& options) {
  const UnixMillis started = now_millis();
  const auto clock_start = std::chrono::steady_clock::now();
  validate_database_name(options.db);
  if (options.keep_days < 0)
    throw Error(ExitCode::kUsage, "--keep-days must be 0 (keep all) or more, not " + std::to_string(options.keep_days));
  const auto collections = backup_collections(options.collections);
  ensure_writable_dir(backup_dir, "backup directory");

  BackupResult result;
  Dump dump;
  fs::path final_path, partial, sidecar;
  bool renamed = false;
  auto log_line = [&](const std::string& outcome, const std::string& error) {
    return nlohmann::json{{"start", format_iso8601(started)},
                          {"end", format_iso8601(now_millis())},
                          {"db", options.db},
                          {"archive", renamed ? result.archive.filename().string() : ""},
                          {"bytes", result.bytes},
                          // The archive's sha256 as its writer hashed it: a later push reads the archive once
                          // (catalog.h: recorded_archive_sha256), instead of hashing it before sending it.
                          {"sha256", renamed ? result.sha256 : ""},
                          {"counts", dump.counts},
                          {"oplog", {{"start", dump.manifest.oplog_start.to_string()},
                                     {"end", dump.manifest.oplog_end.to_string()}}},
                          {"pruned", result.pruned.size()},
                          {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count()},
                          {"outcome", outcome},
                          {"error", error}};
  };

  try {
    auto db = Database::open(data, options.db, Database::OpenOptions{.create_if_missing = false});
    std::unique_ptr<ArchiveWriter> claimed;
    UnixMillis created = 0;
    {
      // An exclusive flock on the backup directory itself (no extra file in it) while a backup claims its archive
      // name: picking a free name and creating its partial file happen as one step, so a second backup started
      // in the same second sees the first's partial file and takes the next second's name instead of finding,
      // after all its work, that the name was taken.
      FileLock claim = FileLock::wait(backup_dir);
      remove_stale_partials(backup_dir);
      auto picked = pick_archive_name(backup_dir, options.db);
      final_path = picked.first;
      created = picked.second;
      partial = partial_archive_path(final_path);
      claimed = std::make_unique<ArchiveWriter>(partial, created);  // creates the partial file
    }
    ArchiveWriter& writer = *claimed;

    Manifest& m = dump.manifest;
    m.tool_version = FACECROWD_VERSION;
    m.created_at = format_iso8601(created);
    m.db = options.db;
    m.collections = collections;
    write_members(*db, writer, collections, created, options.progress, data.root() / kErasureLedgerFileName, dump);
    writer.finish();
    result.bytes = writer.compressed_bytes();
    result.sha256 = writer.file_sha256();

    sidecar = manifest_copy_path(final_path);
    write_file_durably(sidecar, m.to_json().dump(2));  // before the rename: a final name always has its sidecar
    rename_no_replace_durably(partial, final_path);
    renamed = true;
    result.archive = final_path;
    result.manifest = m;
  } catch (const std::exception& e) {
    std::error_code ec;
    if (!renamed) {
      if (!partial.empty()) fs::remove(partial, ec);
      // A sidecar whose archive exists belongs to a backup that won a race for the same name.
      if (!sidecar.empty() && !fs::exists(final_path, ec)) fs::remove(sidecar, ec);
    }
    result.bytes = 0;
    append_log_line(backup_dir, log_line("failed", e.what()), nullptr);
    throw;
  }

  result.pruned = prune_archives(backup_dir, options.db, options.keep_days, started, result.archive);
  if (!result.pruned.empty()) {
    // Slices older than the oldest kept archive serve no point-in-time recovery any more.
    for (auto& slice : prune_unneeded_slices(BackupCatalog(backup_dir), options.db)) result.pruned.push_back(slice);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
  append_log_line(backup_dir, log_line("ok", ""), &result.warnings);
  return result;
}

}  // namespace facecrowd
