// `facecrowd target`: the configured default backup target and its encryption keys
// (backup/offsite/target_config.h), so the scheduled backup and oplog ship need no flags.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <vector>

#include "app/recovery/target_take_over_record.h"
#include "app/records/audit.h"
#include "backup/crypto/object_crypto.h"
#include "backup/offsite/target_take_over.h"
#include "backup/offsite/target_config.h"
#include "backup/targets/backup_target.h"
#include "cli/command.h"
#include "cli/offsite_cli.h"
#include "cli/target_flag.h"
#include "cli/whole_number_check.h"
#include "core/error.h"
#include "core/file_system.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

// The retention line `target set` (what it wrote) and `target show` both print.
std::string retention_line(const TargetConfig& c) {
  return "retention: " + std::to_string(c.keep_daily) + " daily, " + std::to_string(c.keep_monthly) +
         " monthly; point-in-time window (oplog slices): " + std::to_string(c.pitr_days) + " days";
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  auto* group = app.add_subcommand("target", "Configure the off-site backup target (S3, GCS or a directory) and its keys");
  group->require_subcommand(1);
  group->footer(
      "A configured target makes `facecrowd backup` and `facecrowd oplog ship` send every archive, oplog slice\n"
      "and the erasure ledger off-site after each run (cron lines need no flags). Credentials are never stored\n"
      "here: they come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (+AWS_SESSION_TOKEN) or ~/.aws/credentials\n"
      "(profile $AWS_PROFILE); AWS_ENDPOINT_URL and AWS_REGION select an S3-compatible endpoint and region;\n"
      "AWS_CA_BUNDLE (or ca_bundle in ~/.aws/config) names the PEM file of a private CA that an https endpoint's\n"
      "certificate is signed by (a MinIO behind a school's or company's own CA); certificates are always verified;\n"
      "FACECROWD_S3_ADDRESSING=path|virtual tunes it. The storage class of uploads is set only in the\n"
      "environment, FACECROWD_S3_STORAGE_CLASS (not in backup-target.json or ~/.aws/config): STANDARD,\n"
      "REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, GLACIER_IR,\n"
      "OUTPOSTS, SNOW or EXPRESS_ONEZONE (gs://: STANDARD, NEARLINE, COLDLINE, ARCHIVE); unset: the bucket's\n"
      "default; another value is refused (exit 3) before any request. gs://BUCKET/PREFIX uses\n"
      "GCS's S3-interoperable XML API with an HMAC key in the same AWS_* variables.\n"
      "Examples:\n"
      "  facecrowd target keygen /etc/facecrowd/backup.key\n"
      "  facecrowd target set s3://my-bucket/facecrowd --encryption key --key-file /etc/facecrowd/backup.key\n"
      "  facecrowd target keygen /root/offline/backup-restore.key --write-only   # + .pub beside it\n"
      "  facecrowd target set s3://my-bucket/facecrowd --encryption public-key \\\n"
      "      --public-key /root/offline/backup-restore.key.pub   # the server cannot read its own backups\n"
      "  FACECROWD_BACKUP_PASSPHRASE=... facecrowd backup   # with --encryption passphrase (argon2id)\n"
      "Key rotation: `target set … --key-file NEW --key-file OLD`: new objects use NEW, OLD still decrypts.\n"
      "Write-only mode takes only the .pub: the private key is never given to `target set` (refused); keep it\n"
      "offline and give it only to `facecrowd restore … --key-file` or `facecrowd verify --read-data --key-file`.");

  struct SetOptions {
    TargetConfig config;
    std::vector<std::string> key_files;
    std::string public_key;
  };
  auto so = std::make_shared<SetOptions>();
  auto* set = group->add_subcommand("set", "Write <data>/backup-target.json");
  set->footer(
      "Remote retention, applied after every push: the newest backup of each of the last --keep-daily days and\n"
      "of each of the last --keep-monthly months, and always the newest backup and the newest full backup.\n"
      "Oplog slices (one a minute when `oplog ship` runs every minute) are kept for --pitr-days only: a restore\n"
      "`--until T` reaches any moment since the oldest backup made in those days; a backup older than that\n"
      "restores to its own time (the restore says so and exits 1). Every slice is an entry of the target's\n"
      "index, which every push rewrites: a 7-day window is ~10,000 entries (~5 MB), 30 days ~43,000 (~22 MB).\n"
      "Run again (to rotate keys, say), a retention flag left out keeps the value already configured.\n"
      "Example: facecrowd target set s3://my-bucket/facecrowd --encryption key --key-file K --pitr-days 3");
  set->add_option("TARGET", so->config.target, "s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or a directory")->required();
  set->add_option("--encryption", so->config.encryption, "none | key | passphrase | public-key")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "key", "passphrase", "public-key"}));
  set->add_option("--key-file", so->key_files, "--encryption key: key file (0600); repeatable, the first encrypts, older ones decrypt. Not with public-key: its private key stays offline")
      ->allow_extra_args(false);  // one file per --key-file: what follows it is the positional TARGET
  set->add_option("--public-key", so->public_key, "write-only mode: the public key file (`target keygen --write-only` makes it)");
  auto* keep_daily = set->add_option("--keep-daily", so->config.keep_daily, "remote retention: newest archive of each of the last N days")
      ->capture_default_str()->check(whole_number_in(1, TargetConfig::kMaxKeepDaily, "days"));
  auto* keep_monthly = set->add_option("--keep-monthly", so->config.keep_monthly, "remote retention: newest archive of each of the last N months")
      ->capture_default_str()->check(whole_number_in(0, TargetConfig::kMaxKeepMonthly, "months"));
  auto* pitr_days = set->add_option("--pitr-days", so->config.pitr_days,
                  "remote retention: keep the oplog slices of the last N days (point-in-time recovery to any moment "
                  "since the oldest backup made in them); older backups restore to their own time only")
      ->capture_default_str()->check(whole_number_in(1, TargetConfig::kMaxPitrDays, "days"));
  set->callback([so, &globals, keep_daily, keep_monthly, pitr_days] {
    TargetConfig c = so->config;
    // Re-running `target set` (a key rotation, a new encryption) must not quietly put the retention back to
    // its defaults: a 30-day window became 7 and the next push deleted 23 days of slices for good. A flag
    // left out keeps the value the existing file has; a malformed file is being replaced, so it has none.
    std::optional<TargetConfig> before;
    try {
      before = TargetConfig::load(globals.data_dir);
    } catch (const Error&) {
    }
    std::vector<std::string> kept;
    if (before && !before->file.empty()) {
      auto keep = [&](CLI::Option* flag, int& value, int previous) {
        if (flag->count() > 0) return;
        value = previous;
        kept.push_back(flag->get_name());
      };
      keep(keep_daily, c.keep_daily, before->keep_daily);
      keep(keep_monthly, c.keep_monthly, before->keep_monthly);
      keep(pitr_days, c.pitr_days, before->pitr_days);
    }
    if (c.target.empty()) throw Error(ExitCode::kUsage, "TARGET is empty: give s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or a directory");
    for (const auto& k : so->key_files) c.key_files.push_back(std::filesystem::absolute(k));
    if (!so->public_key.empty()) c.public_key_file = std::filesystem::absolute(so->public_key);
    if (c.encryption == "key" && c.key_files.empty()) throw Error(ExitCode::kUsage, "--encryption key needs --key-file");
    // Unencrypted backups use no key: a key file taken here was saved with the configuration and silently unused.
    if (c.encryption == "none" && !c.key_files.empty())
      throw Error(ExitCode::kUsage, "--key-file " + c.key_files.front().string() +
                                        " is not taken with --encryption none: key files are only for --encryption key "
                                        "(for write-only backups, give the .pub of `target keygen --write-only` with "
                                        "--encryption public-key --public-key); nothing was written");
    // Write-only mode: the server must hold nothing that reads its backups, so the private key is never
    // written into the server's configuration (where every push would read it).
    if (c.encryption == "public-key" && !c.key_files.empty())
      throw Error(ExitCode::kUsage, "--key-file " + c.key_files.front().string() +
                                        " is not taken with --encryption public-key: give only the public key (the .pub) "
                                        "with --public-key. The private key belongs offline, used only with `facecrowd "
                                        "restore`/`verify --read-data` --key-file; nothing was written");
    if (c.encryption == "public-key" && c.public_key_file.empty()) throw Error(ExitCode::kUsage, "--encryption public-key needs --public-key");
    // Prove the keys load now rather than at 01:00.
    KeyRing probe;
    // Every key file, not only the one that encrypts: a restore loads them all, so a missing or unreadable
    // older key would otherwise surface only when the backups are needed.
    for (const auto& k : c.key_files) probe.add_key_file(k);
    if (c.encryption == "public-key") probe.add_public_key_file(c.public_key_file);
    open_backup_target(c.target);  // validates the name as given (and finds credentials for s3/gs)
    if (!is_remote_target_name(c.target)) c.target = normal_directory_target(c.target);
    auto file = TargetConfig::file_of(globals.data_dir);
    // The file goes into the data directory: make it one (or refuse a folder that is not, exit 8) first. A
    // bare folder holding only backup-target.json was refused by every later command as "not empty and not
    // a facecrowd data directory", and any folder (--data /etc) got the file written into it.
    if (std::getenv("FACECROWD_BACKUP_TARGET_CONFIG") == nullptr || !*std::getenv("FACECROWD_BACKUP_TARGET_CONFIG"))
      DataDir::open(globals.data_dir);
    std::filesystem::create_directories(file.parent_path());
    c.save(file);
    std::cout << "backup target " << c.target << " (encryption: " << c.encryption << ") written to " << file.string() << "\n"
              << retention_line(c);
    if (!kept.empty()) {
      std::cout << " (";
      for (size_t i = 0; i < kept.size(); ++i) std::cout << (i ? ", " : "") << kept[i];
      std::cout << " as configured before)";
    }
    std::cout << "\n";
  });

  auto* show = group->add_subcommand("show", "Print the configured target");
  auto show_json = std::make_shared<bool>(false);
  show->add_flag("--json", *show_json,
                 "print it as JSON: the config file's fields (target, encryption, key_files, public_key_file, keep_daily, "
                 "keep_monthly, pitr_days), config_file, where they were read from (empty: $FACECROWD_BACKUP_TARGET), and "
                 "writer_identity {id, host, created} of the backup directory (null: none yet) with writer_identity_file");
  show->callback([&globals, show_json] {
    auto c = TargetConfig::load(globals.data_dir);
    if (!c) throw Error(ExitCode::kNotFound, "no backup target is configured (" + TargetConfig::file_of(globals.data_dir).string() +
                                                 " is missing and $FACECROWD_BACKUP_TARGET is unset); see `facecrowd target set --help`");
    // This backup directory's writer identity (writer_fence.h), local: the target's writer is what
    // `backups list --target` shows. A damaged identity file is shown (exit 3), not fatal to the rest.
    std::optional<WriterIdentity> me;
    std::string identity_problem;
    try {
      me = read_writer_identity(globals.backup_dir);
    } catch (const Error& e) {
      identity_problem = e.what();
      globals.exit_code = int(e.code());
    }
    const std::string identity_file = (fs::path(globals.backup_dir) / WriterIdentity::kFile).string();
    if (*show_json) {
      auto j = c->to_json();
      j["config_file"] = c->file.string();
      j["writer_identity"] = me ? me->to_json() : nlohmann::json(nullptr);
      j["writer_identity_file"] = identity_file;
      if (!identity_problem.empty()) j["writer_identity_error"] = identity_problem;
      std::cout << j.dump() << "\n";
      return;
    }
    std::cout << "target: " << c->target << "\nencryption: " << c->encryption << "\n";
    for (const auto& k : c->key_files) std::cout << "key file: " << k.string() << "\n";
    if (!c->public_key_file.empty()) std::cout << "public key: " << c->public_key_file.string() << "\n";
    std::cout << retention_line(*c) << "\n";
    if (me)
      std::cout << "writer identity of this backup directory: " << me->id << " (host " << me->host << ", created " << me->created
                << "; " << identity_file << "); the target's writer: `facecrowd backups list --target " << c->target << "`\n";
    else if (identity_problem.empty())
      std::cout << "writer identity of this backup directory: none yet (made by its first push: " << identity_file << ")\n";
    else
      std::cout << "writer identity of this backup directory: " << identity_problem << "\n";
  });

  struct TakeOverOptions {
    std::string target;
    bool json = false;
  };
  auto to = std::make_shared<TakeOverOptions>();
  auto* take_over = group->add_subcommand("take-over", "Make this machine the one that writes the target (after the old server is gone)");
  take_over->footer(
      "A target has one writer: the backup directory that pushed to it first (its identity is\n"
      "<backup dir>/" + std::string(WriterIdentity::kFile) + "). Pushes from any other machine are refused (exit 5), because two machines\n"
      "pushing to one target overwrite each other's objects and can leave it unrestorable. When the old server\n"
      "is retired or lost, or a stand-by restored from the target replaces it, run this on the new one: the\n"
      "target's index.json then names this backup directory, and the old machine's pushes are refused. Only\n"
      "index.json changes; the take-over is recorded in the audit log (backup.target.take_over).\n"
      "Example (after `facecrowd restore s3://my-bucket/facecrowd/latest` and `facecrowd target set …`):\n"
      "  facecrowd target take-over --target s3://my-bucket/facecrowd");
  add_target_flag(take_over, to->target, "the target (default: the configured one)");
  take_over->add_flag("--json", to->json,
                      "print {target, previous_writer, writer, already_the_writer, audit_id} as JSON; refused, {target, error: "
                      "{code, message}} (the exit code and the message on stderr as without --json)");
  // The take-over itself; the callback below adds the JSON form of a refusal. `taken`: set once the target
  // names this machine, so a failure after that (the audit entry) still reports what was done.
  auto take_over_now = [to, &globals](std::optional<TakeOverResult>& taken, std::string& target_url) {
    auto config = resolve_target(globals, to->target);
    if (!config || config->target.empty())
      throw Error(ExitCode::kUsage, "no backup target: give --target s3://BUCKET/PREFIX (or configure one with `facecrowd target set`)");
    target_url = config->target;
    // Recorded where an auditor looks: the data directory's audit log, opened before the target changes so
    // that one which cannot take the entry (not facecrowd's, damaged) stops the take-over with nothing written.
    // None on a machine without data yet (a stand-by that sets its target and takes over before it restores):
    // the take-over is still done, with a note.
    std::unique_ptr<Database> db;
    std::string audit_id, audit_note;
    const fs::path root = globals.data_dir;
    std::error_code ec;
    if (!fs::is_directory(root, ec) || fs::is_empty(root, ec)) {
      audit_note = "not recorded in an audit log: there is no data directory at '" + root.string() + "'";
    } else if (DataDir dir = DataDir::open(root); !dir.database_exists(std::string(kDefaultDatabase))) {
      audit_note = "not recorded in an audit log: the data directory '" + root.string() + "' holds no database yet";
    } else {
      db = Database::open(dir, std::string(kDefaultDatabase), {.create_if_missing = false});
    }
    auto target = open_backup_target(config->target);
    target_url = target->url();
    TakeOverResult r;
    try {
      r = take_over_target(globals.backup_dir, *target, *config);
    } catch (const Error& e) {
      if (e.code() != ExitCode::kNotFound) throw;
      // Perhaps a typo: name the configured target when --target named another one.
      auto configured = TargetConfig::load(globals.data_dir);
      auto same = [](const std::string& a, const std::string& b) {
        if (is_remote_target_name(a) || is_remote_target_name(b)) return a == b;
        return normal_directory_target(a) == normal_directory_target(b);
      };
      if (!configured || configured->target.empty() || same(configured->target, config->target)) throw;
      throw Error(e.code(), std::string(e.what()) + ". The configured target is '" + configured->target +
                                "' (`facecrowd target show`): to take that one over, leave --target out");
    }
    taken = r;
    for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
    if (db && !r.already) {
      try {
        audit_id = record_take_over(*db, r, Actor{default_audit_actor(), "local"});
      } catch (const Error& e) {
        throw Error(e.code(), "target '" + r.target + "' now names this machine as its writer, but recording the take-over in the "
                                  "audit log of '" + root.string() + "' failed: " + e.what());
      }
    }
    if (to->json) {
      auto j = r.to_json();
      j["audit_id"] = audit_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(audit_id);
      std::cout << j.dump() << "\n";
      return;
    }
    if (r.already) {
      std::cout << "this backup directory already writes target " << r.target << " (" << describe_writer(r.writer) << "); nothing was changed\n";
      return;
    }
    std::cout << "this backup directory now writes target " << r.target << " (" << describe_writer(r.writer) << ")";
    if (r.previous) std::cout << "; it replaces " << describe_writer(*r.previous) << ", whose pushes are refused from now on";
    std::cout << "\n";
    if (!audit_id.empty()) std::cout << "recorded in the audit log of " << root.string() << " (entry " << audit_id << ")\n";
    if (!audit_note.empty()) std::cout << "note: " << audit_note << "\n";
  };
  take_over->callback([to, take_over_now] {
    std::optional<TakeOverResult> taken;
    std::string target_url;
    try {
      take_over_now(taken, target_url);
    } catch (const Error& e) {
      // A machine reading --json gets the refusal as JSON on stdout, as `backup --json` reports a push that
      // failed (offsite_error); the message still goes to stderr and the exit code is the same (main.cpp).
      if (to->json) {
        nlohmann::json j = taken ? taken->to_json() : nlohmann::json{{"target", target_url.empty() ? nlohmann::json(nullptr) : nlohmann::json(target_url)}};
        j["error"] = error_json(e);
        std::cout << j.dump() << "\n";
      }
      throw;
    }
  });

  struct KeygenOptions {
    std::string file;
    bool write_only = false;
  };
  auto ko = std::make_shared<KeygenOptions>();
  auto* keygen = group->add_subcommand("keygen", "Create a new key file (0600), or a write-only key pair");
  keygen->add_option("FILE", ko->file, "where to write the key (never overwritten)")->required();
  keygen->add_flag("--write-only", ko->write_only,
                   "a key pair: FILE (private key and index verify key, keep it offline) and FILE.pub (public key and index "
                   "signing key, for the server); both 0600");
  keygen->callback([ko] {
    // The README's first step writes /etc/facecrowd/backup.key, a folder no fresh machine has: it failed
    // with only "No such file or directory". A missing folder is made, private (0700) as the key is.
    const fs::path folder = fs::absolute(ko->file).parent_path();
    std::error_code ec;
    if (!fs::exists(folder, ec)) {
      file_system().create_dirs(folder);
      std::cout << "created folder " << folder.string() << " (mode 0700)\n";
    }
    if (ko->write_only) {
      generate_key_pair(ko->file);
      std::cout << "wrote private key " << ko->file << " (mode 0600: keep it offline; restores need it, and it checks the "
                   "signature of the target's index) and " << ko->file << ".pub (mode 0600: the server's file for `target set "
                   "--encryption public-key --public-key`: the public key, and the key that signs the target's index)\n";
    } else {
      generate_key_file(ko->file);
      std::cout << "wrote key " << ko->file << " (mode 0600). Keep a copy off this machine: without it the encrypted "
                   "backups cannot be restored.\n";
    }
  });
});

}  // namespace
}  // namespace facecrowd
