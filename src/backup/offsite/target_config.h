// The configured default backup target, so scheduled jobs (`facecrowd backup`, `facecrowd oplog ship`
// from cron) need no flags, and the encryption settings that go with it:
//
//   <data dir>/backup-target.json   (or the file $FACECROWD_BACKUP_TARGET_CONFIG names)
//   {"target": "s3://bucket/prefix",          // or gs://…, or a directory
//    "encryption": "key",                     // "none" | "key" | "passphrase" | "public-key"
//    "key_files": ["/etc/facecrowd/backup-2025.key", "/etc/facecrowd/backup-2024.key"],
//                                             // "key": the first encrypts, every one decrypts (rotation);
//                                             // "public-key": must be absent or empty (below)
//    "public_key_file": "/etc/facecrowd/backup.pub",   // "public-key" (write-only mode): encrypts
//    "keep_daily": 30, "keep_monthly": 24,   // remote retention (offsite_retention.h)
//    "pitr_days": 7}                          // its point-in-time window: oplog slices kept this many days
//
// The passphrase never sits in a file or on a command line: $FACECROWD_BACKUP_PASSPHRASE. Without the file,
// $FACECROWD_BACKUP_TARGET names the target (plaintext). No credential is ever stored here (s3_config.h).
// Write-only mode keeps the private key off the server: a "public-key" target with key_files is refused by
// `target set` (exit 2) and at every push (exit 3, naming the file and the field), before anything is sent;
// the private key is given only to `restore`/`verify --read-data` with --key-file.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backup/crypto/object_crypto.h"
#include "backup/offsite/index_auth.h"
#include "backup/offsite/offsite_retention.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct RemoteIndex;

struct TargetConfig {
  std::string target;
  std::string encryption = "none";
  std::vector<fs::path> key_files;
  fs::path public_key_file;
  fs::path file;  // where load() read it from; empty when built in code or from $FACECROWD_BACKUP_TARGET
  // Remote retention; the defaults are RemoteRetention's (offsite_retention.h), the one place they are set.
  int keep_daily = RemoteRetention{}.keep_daily;
  int keep_monthly = RemoteRetention{}.keep_monthly;
  int pitr_days = RemoteRetention{}.pitr_days;
  static constexpr int kMaxKeepDaily = 36500;    // a hundred years: more is a typo, not a policy
  static constexpr int kMaxPitrDays = kMaxKeepDaily;
  static constexpr int kMaxKeepMonthly = 1200;

  bool encrypted() const { return encryption != "none" && !encryption.empty(); }
  // Encrypted with a key file or a passphrase: the target's index then carries a tag (index_auth.h).
  bool keyed() const { return encryption == "key" || encryption == "passphrase"; }
  RemoteRetention retention() const { return {keep_daily, keep_monthly, pitr_days}; }
  // The config file of `data_root` (or $FACECROWD_BACKUP_TARGET_CONFIG); nullopt when there is none and
  // $FACECROWD_BACKUP_TARGET is unset. Error(kBadInput) naming the file when malformed.
  static std::optional<TargetConfig> load(const fs::path& data_root);
  static fs::path file_of(const fs::path& data_root);
  // The fields as the config file holds them (what save() writes and `target show --json` prints).
  nlohmann::json to_json() const;
  void save(const fs::path& file) const;
};

// The keys for uploading to a target whose index is `index` (created with a salt when "passphrase" and
// the index has none; for "key", every key file: the first encrypts, the older ones check an index signed
// before a rotation). Fail closed: Error(kUsage) when the configuration or the index says the target is
// encrypted and no usable key is found; Error(kBadInput) naming the file and "key_files" when a "public-key"
// target names private key files (write-only mode with the offline key on the server). nullptr: plaintext.
std::shared_ptr<KeyRing> keys_for_upload(const TargetConfig& config, RemoteIndex& index);
// Every key that may decrypt objects of `index`: the config's key files, `extra_key_files` (--key-file),
// $FACECROWD_BACKUP_KEY_FILE (':'-separated) and the passphrase; a write-only pair's private file brings its
// index verify key too (KeyRing::add_restore_key_file).
std::shared_ptr<KeyRing> keys_for_download(const std::optional<TargetConfig>& config, const RemoteIndex& index,
                                           const std::vector<fs::path>& extra_key_files);

// What a reader of the target's index (`verify --target`, `backups list --target`) trusts: read_trust's, and on
// a write-only target's server its own signing key (IndexTrust::own_signing_key), the ring of the configured
// public_key_file when it is "public-key" and that file holds an index signing key; none otherwise, and when
// the file cannot be read (the report then says "unchecked", with the remedy).
IndexTrust reader_trust(const std::optional<TargetConfig>& config, const fs::path& backup_dir, const std::string& target_url);

}  // namespace facecrowd
