#include "app/recovery/offsite_restore.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <sstream>

#include "app/records/audit.h"
#include "app/privacy/erasure_ledger.h"
#include "backup/offsite/offsite_fetch.h"
#include "backup/offsite/target_config.h"
#include "backup/targets/backup_target.h"
#include "core/error.h"
#include "core/files.h"
#include "store/data_dir.h"

namespace facecrowd {
namespace {

// Splits "s3://b/p/latest" into target "s3://b/p" and "latest" (or an archive name).
std::pair<std::string, std::string> split_source(const std::string& input) {
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

// Every line of the local ledger, then the target's lines it lacks. Returns how many were added.
int64_t merge_ledger(const fs::path& data_root, const std::string& remote) {
  ErasureLedger ledger(data_root);
  std::string local;
  std::error_code ec;
  if (fs::exists(ledger.path(), ec)) local = read_file(ledger.path());
  auto cut = local.rfind('\n');
  local = cut == std::string::npos ? std::string() : local.substr(0, cut + 1);  // a torn last line never committed
  std::set<std::string> have;
  for (const auto& l : lines_of(local)) have.insert(l);
  std::string merged = local;
  int64_t added = 0;
  for (const auto& l : lines_of(remote)) {
    if (have.insert(l).second) {
      try {  // every line must be a record: a restore must not silently skip an erasure
        ErasureRecord::from_json(nlohmann::json::parse(l), "erasure ledger line from the backup target");
      } catch (const nlohmann::json::exception& e) {
        throw Error(ExitCode::kBadInput, std::string("an erasure ledger line from the backup target is not JSON: ") + e.what());
      }
      merged += l + "\n";
      ++added;
    }
  }
  if (added > 0) write_file_durably(ledger.path(), merged);
  return added;
}

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
                  {"seconds", seconds}};
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
  ensure_writable_dir(backup_dir, "backup directory");
  OffsiteStore store(*target, backup_dir);
  RemoteIndex index = store.require_index();
  auto keys = keys_for_download(TargetConfig::load(data_root), index, options.key_files);
  const std::string db = options.restore.db.empty() ? std::string("face-recognition") : options.restore.db;
  if (progress) progress("downloading from " + result.target);
  FetchedBackup fetched = fetch_backup(store, index, which, db, options.restore.until, keys.get(), backup_dir);
  std::string ledger = fetch_ledger(store, index, keys.get());
  result.download_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.archive = fetched.remote.name;
  result.downloaded_bytes = fetched.bytes;
  result.slices = int(fetched.slices.size());
  DataDir::open(data_root);  // a fresh machine: the data directory is created only once everything is here
  result.ledger_records_added = merge_ledger(data_root, ledger);

  // Default recovery point: everything the archive and the shipped slices hold (the limit is exclusive).
  const OplogTimestamp reach = fetched.window.reach;
  const bool user_until = options.restore.until.has_value();
  if (!user_until) options.restore.until = OplogTimestamp{reach.secs, reach.inc + 1};
  result.recovery_point = user_until ? std::min(*options.restore.until, reach) : reach;
  auto details = nlohmann::json{{"target", result.target}, {"archive", result.archive},
                                {"recovery_point", result.recovery_point.to_string()}, {"slices", result.slices},
                                {"downloaded_bytes", result.downloaded_bytes}, {"ledger_records_added", result.ledger_records_added}};
  const std::string target_url = result.target;
  options.restore.after_load.push_back([details, target_url](Database::WriteTransaction& tx) {
    AuditEntry e;
    e.action = "backup.restore.offsite";
    e.target = target_url;
    e.details = details;
    append_audit(tx, e);
  });
  result.inner = restore_with_erasures(data_root, fetched.archive.string(), options.restore);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace facecrowd
