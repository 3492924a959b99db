#include "app/recovery/offsite_restore.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <set>
#include <sstream>

#include "app/records/audit.h"
#include "app/privacy/erasure_ledger.h"
#include "backup/offsite/offsite_fetch.h"
#include "backup/offsite/target_config.h"
#include "backup/offsite/writer_fence.h"
#include "backup/targets/backup_target.h"
#include "core/error.h"
#include "core/files.h"
#include "store/data_dir.h"

namespace facecrowd {
namespace {

// Splits "s3://b/p/latest" into target "s3://b/p" and "latest" (or an archive name).
std::pair<std::string, std::string> split_source(std::string input) {
  while (input.size() > 5 && input.back() == '/') input.pop_back();  // "s3://b/p/latest/" as "s3://b/p/latest"
  auto slash = input.rfind('/');
  std::string last = slash == std::string::npos ? input : input.substr(slash + 1);
  if (last == "latest" || (last.rfind("backup_", 0) == 0 && last.ends_with(".tar.gz"))) {
    std::string target = input.substr(0, slash);
    if (target.ends_with("/archives")) target.resize(target.size() - std::string("/archives").size());
    return {target, last};
  }
  return {input, "latest"};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// Every line of the target's ledger checked to be an erasure record, before anything is downloaded into the
// restore: a restore must not silently skip an erasure.
std::vector<std::string> checked_ledger_lines(const std::string& remote, const std::string& target) {
  auto lines = lines_of(remote);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = "erasure ledger line " + std::to_string(i + 1) + " from backup target '" + target + "'";
    try {
      ErasureRecord::from_json(nlohmann::json::parse(lines[i]), where);
    } catch (const nlohmann::json::exception& e) {
      throw Error(ExitCode::kBadInput, where + " is not JSON (" + e.what() + "); nothing was changed");
    }
  }
  return lines;
}

// The target's ledger lines merged into <data>/erasure-ledger.jsonl (every local line, then the target's lines
// it lacks), once the restore has checked the backup and holds the data directory's lock (restore.h's
// on_scanned), and taken back out when the restore fails after all: a refused or failed restore leaves the
// live ledger as it was.
class LedgerMerge {
 public:
  LedgerMerge(fs::path data_root, std::vector<std::string> remote) : ledger_(data_root), remote_(std::move(remote)) {}

  void merge() {
    std::error_code ec;
    if (fs::exists(ledger_.path(), ec)) old_ = read_file(ledger_.path());
    std::string local = old_.value_or("");
    auto cut = local.rfind('\n');
    local = cut == std::string::npos ? std::string() : local.substr(0, cut + 1);  // a torn last line never committed
    std::set<std::string> have;
    for (const auto& l : lines_of(local)) have.insert(l);
    std::string merged = local;
    for (const auto& l : remote_)
      if (have.insert(l).second) {
        merged += l + "\n";
        ++added_;
      }
    if (added_ == 0) return;
    write_file_durably(ledger_.path(), merged);
    written_ = merged;
  }

  // Puts the old ledger back, unless an erasure was appended since (then the merged lines stay: a restore
  // may add erasures, never drop one).
  void undo() noexcept {
    if (!written_) return;
    try {
      if (read_file(ledger_.path()) != *written_) return;
      if (old_) {
        write_file_durably(ledger_.path(), *old_);
      } else {
        std::error_code ec;
        fs::remove(ledger_.path(), ec);
      }
    } catch (...) {
    }
  }

  int64_t added() const { return added_; }

 private:
  ErasureLedger ledger_;
  std::vector<std::string> remote_;
  std::optional<std::string> old_, written_;
  int64_t added_ = 0;
};

}  // namespace

bool is_offsite_source(const std::string& input) { return is_remote_target_name(input); }

nlohmann::json OffsiteRestoreResult::to_json() const {
  auto j = inner.to_json();
  j["offsite"] = {{"target", target},
                  {"archive", archive},
                  {"recovery_point", recovery_point.to_string()},
                  {"recovery_point_iso", format_iso8601(int64_t(recovery_point.secs) * 1000)},
                  {"downloaded_bytes", downloaded_bytes},
                  {"slices", slices},
                  {"ledger_records_added", ledger_records_added},
                  {"download_seconds", download_seconds},
                  {"seconds", seconds},
                  {"warnings", warnings},
                  {"encryption", encryption},
                  {"index_authentication", index_authentication.to_json()},
                  {"writer", writer ? writer->to_json() : nlohmann::json(nullptr)},
                  {"take_over_command", take_over_command}};
  return j;
}

OffsiteRestoreResult restore_from_target(const fs::path& data_root, const std::string& input, OffsiteRestoreOptions options) {
  const auto start = std::chrono::steady_clock::now();
  auto [target_name, which] = options.target.empty() ? split_source(input) : std::make_pair(options.target, input);
  if (options.restore.dry_run) throw Error(ExitCode::kUsage, "--dry-run is not supported for a restore from a backup target; use `facecrowd verify --target " + target_name + " --read-data`");
  auto target = open_backup_target(target_name);
  auto progress = options.restore.progress;
  OffsiteRestoreResult result;
  result.target = target->url();

  const fs::path backup_dir = options.restore.backup_dir;
  std::error_code ec;
  // A backup directory this restore creates is taken away again when it fails before anything is in it
  // (no key, a refused index, a missing archive): a refused restore leaves nothing behind. Declared before
  // the store, so the store's scratch folder is gone by then.
  struct RemoveIfLeftEmpty {
    fs::path dir;
    ~RemoveIfLeftEmpty() {
      std::error_code ec;
      if (!dir.empty() && std::uncaught_exceptions() > 0) fs::remove(dir, ec);  // only when empty
    }
  } created{fs::exists(backup_dir, ec) ? fs::path() : backup_dir};
  ensure_writable_dir(backup_dir, "backup directory");
  OffsiteStore store(*target, backup_dir);
  RemoteIndex index = store.require_index();
  const auto config = TargetConfig::load(data_root);
  auto keys = keys_for_download(config, index, options.key_files);
  // This machine's configuration speaks for the target only when it is this target.
  auto is_this_target = [&](const std::string& configured) {
    if (configured == target_name || configured == result.target) return true;
    try {
      return open_backup_target(configured)->url() == result.target;
    } catch (const Error&) {
      return false;
    }
  };
  IndexTrust trust = read_trust(config && config->keyed() && is_this_target(config->target), backup_dir, result.target);
  trust.allow_unauthenticated = options.allow_unauthenticated_index;
  result.index_authentication = store.authenticate_index(index, keys.get(), trust);
  result.encryption = index.encryption;
  result.writer = index.writer;
  if (index.writer && !is_writer(index, writer_identity_if_readable(backup_dir))) result.take_over_command = take_over_command(result.target);
  const std::string db = options.restore.db.empty() ? std::string("face-recognition") : options.restore.db;
  const bool user_until = options.restore.until.has_value();
  // --until before the target's point-in-time window: the slices that would bring the archive (a monthly
  // one, kept beyond the window) forward to T were deleted by remote retention. The archive still restores
  // to its own time (done below, with a warning), instead of refusing T as outside a window that retention
  // itself cut short, or stopping short of T without a word. slices_pruned_through is believed only as a
  // push writes it: retention always keeps the newest slice, so what it pruned ends before the newest slice
  // does. An edited index's far-future value would otherwise turn any --until past the shipped oplog into an
  // old backup restored with exit 1, instead of the refusal.
  const bool pruned_as_pushed = index.slices_pruned_through < index.shipped_position();
  auto retention_cut_short = [&](OplogTimestamp reach) {
    return user_until && OplogTimestamp{reach.secs, reach.inc + 1} < *options.restore.until && pruned_as_pushed &&
           reach < index.slices_pruned_through;
  };
  // An --until outside what the target holds is refused from its index, before anything is downloaded: the
  // archive and slices of a refused restore were left in the backup directory.
  if (user_until) {
    const RemoteArchive& chosen = choose_remote_archive(index, which, db, options.restore.until, result.target);
    const OplogWindow planned = planned_remote_window(index, chosen, backup_dir);
    if (!retention_cut_short(planned.reach)) require_inside_window(planned, *options.restore.until);
  }
  if (progress) progress("downloading from " + result.target);
  FetchedBackup fetched = fetch_backup(store, index, which, db, options.restore.until, keys.get(), backup_dir);
  std::string ledger = fetch_ledger(store, index, keys.get());
  // Chunks the index does not name (an interrupted push, or an index rolled back to drop erasures): the
  // erasures they hold are applied too, with a warning.
  auto unindexed = fetch_unindexed_ledger(store, index, keys.get());
  ledger += unindexed.text;
  for (const auto& name : unindexed.applied)
    result.warnings.push_back("erasure ledger object '" + name + "' is not named by the target's index (a push interrupted before it "
                              "wrote the index, or an index rolled back or edited): its erasures were applied too");
  for (const auto& why : unindexed.unusable)
    result.warnings.push_back("erasure ledger object " + why + "; it is not named by the target's index and could not be applied: "
                              "check that no erasure is missing (`facecrowd person erasures`)");
  auto merge = std::make_shared<LedgerMerge>(data_root, checked_ledger_lines(ledger, result.target));
  result.download_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.archive = fetched.remote.name;
  result.downloaded_bytes = fetched.bytes;
  result.slices = int(fetched.slices.size());
  // Merged only once the restore has read and checked the archive, under its lock (and taken out again if
  // the restore fails after that): a restore that is refused (a non-empty database without --drop, an
  // --until outside the window, a damaged archive) leaves the live ledger as it was.
  // The archive's own manifest (inside the decrypted object) must be the backup the index names: another
  // backup's object copied over this one decrypts with the same key.
  const RemoteArchive remote = fetched.remote;
  const std::string object_name = result.target + "/" + remote.object.key;
  options.restore.on_scanned = [merge, remote, object_name](const std::optional<std::string>&, const std::optional<Manifest>& m) {
    if (!m) throw Error(ExitCode::kBadInput, "object '" + object_name + "' holds no manifest.json; nothing was changed");
    require_archive_is(remote, *m, object_name);
    merge->merge();
  };

  // Default recovery point: everything the archive and the shipped slices hold (the limit is exclusive).
  const OplogTimestamp reach = fetched.window.reach;
  const OplogTimestamp past_reach{reach.secs, reach.inc + 1};
  if (retention_cut_short(reach)) {
    result.warnings.push_back(
        "--until " + oplog_position_text(*options.restore.until) + " is before the point-in-time window of target '" + result.target +
        "': remote retention deleted its oplog slices up to " + oplog_position_text(index.slices_pruned_through) +
        " (a target keeps slices only for its point-in-time window: `facecrowd target set --pitr-days`), so backup '" + fetched.remote.name +
        "' was restored to its own time, " + oplog_position_text(reach) + ", not to " + oplog_position_text(*options.restore.until) +
        ": the changes after that are not in the restored data");
    options.restore.until = past_reach;
  }
  if (!user_until) options.restore.until = past_reach;
  result.recovery_point = user_until ? std::min(*options.restore.until, reach) : reach;
  const OplogTimestamp shipped = index.shipped_position();
  if (!user_until && reach < shipped)
    result.warnings.push_back("the target's oplog slices reach " + oplog_position_text(shipped) + ", but those that continue backup '" +
                              fetched.remote.name + "' stop at " + oplog_position_text(reach) +
                              (fetched.missing_slice.empty() ? std::string(" (the slice after it is missing from the target)")
                                                             : " (the index lists '" + fetched.missing_slice + "', but the target no longer holds it)") +
                              ": the changes after that are not in the restored data");
  auto details = nlohmann::json{{"target", result.target}, {"archive", result.archive},
                                {"recovery_point", result.recovery_point.to_string()}, {"slices", result.slices},
                                {"downloaded_bytes", result.downloaded_bytes}};
  const std::string target_url = result.target;
  options.restore.after_load.push_back([details, target_url, merge](Database::WriteTransaction& tx) {
    AuditEntry e;
    e.action = "backup.restore.offsite";
    e.target = target_url;
    e.details = details;
    // Known only now: the ledger is merged once the archive is scanned (on_scanned, above). The entry said 0
    // when the run added erasures from the target.
    e.details["ledger_records_added"] = merge->added();
    append_audit(tx, e);
  });
  try {
    result.inner = restore_with_erasures(data_root, fetched.archive.string(), options.restore);
  } catch (const Error& e) {
    merge->undo();
    // A damaged copy already in the backup directory is used instead of the target's: say so, or every
    // retry fails the same way.
    if (e.code() == ExitCode::kBadInput && fetched.archive_was_local)
      throw Error(e.code(), std::string(e.what()) + " (that is the copy that was already in the backup directory, not the target's: " +
                                "move '" + fetched.archive.string() + "' away and restore again to download it from '" +
                                result.target + "')");
    throw;
  } catch (...) {
    merge->undo();
    throw;
  }
  result.ledger_records_added = merge->added();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace facecrowd
