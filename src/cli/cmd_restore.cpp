// `facecrowd restore`: atomic restore and point-in-time recovery (backup/restore.h).
#include <iomanip>
#include <iostream>

#include "app/recovery/offsite_restore.h"
#include "app/recovery/restore_with_erasures.h"
#include "backup/offsite/target_config.h"
#include "backup/offsite/writer_fence.h"
#include "backup/point_in_time.h"
#include "backup/restore.h"
#include "cli/command.h"
#include "cli/target_flag.h"
#include "core/display_text.h"
#include "core/error.h"
#include "core/utc_time.h"
#include "store/generation_build.h"
#include "store/schema.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

void print_result(const RestoreResult& r) {
  std::cout << (r.dry_run ? "dry run: would restore " : "restored ") << r.source.string() << " ("
            << shape_name(r.shape) << ", database " << r.source_db << ") into database " << r.db
            << (r.copied_live ? " (other collections kept)" : "") << "\n";
  for (const auto& c : r.collections) {
    std::cout << "  " << std::left << std::setw(14) << c.name << std::right << std::setw(12) << c.documents_read
              << " " << noun_for(c.documents_read, "document");
    if (c.manifest_documents >= 0) std::cout << " (manifest: " << c.manifest_documents << ")";
    if (!r.dry_run && c.documents_after != c.documents_read)
      std::cout << ", " << c.documents_after << " now" << (r.until ? " (after replay)" : c.name == "auditlogs" ? " (with this restore's audit entry)" : "");
    std::cout << "\n";
  }
  std::cout << "  checked " << counted(r.members, "file") << ", decoded " << counted(r.documents_decoded, "document") << " and "
            << counted(r.oplog_entries_decoded, "oplog entry", "oplog entries");
  if (r.manifest) std::cout << "; every sha256, size and count matches the manifest";
  std::cout << "\n";
  if (r.until) {
    std::cout << "  point in time: " << (r.dry_run ? "would replay " : "replayed ") << counted(r.oplog_replayed, "oplog entry", "oplog entries")
              << " before " << oplog_position_text(*r.until) << " (covered "
              << r.window_start.to_string() << " .. " << r.window_reach.to_string() << ", "
              << counted(r.slices_used.size(), "shipped slice") << ")\n";
  }
  for (const auto& w : r.warnings) std::cout << "  warning: " << w << "\n";
  if (r.dry_run) {
    std::cout << "  nothing was written\n";
  } else {
    if (!r.killed_build_removed.empty())
      std::cout << "  " << killed_build_removed_note(r.killed_build_removed) << "\n";
    if (!r.damaged_kept.empty())
      std::cout << "  the damaged database was replaced; its files were kept at " << r.damaged_kept.string()
                << " (delete them once the restored data is checked)\n";
    std::cout << "  now at oplog position " << r.position.to_string() << ", generation " << r.generation.filename().string()
              << ", " << std::fixed << std::setprecision(1) << r.seconds << " s\n";
  }
}

// The `target set` that sends new backups to the target restored from, encrypted as it is: written out
// whole, as the target's index records its encryption, so the operator after a disaster need not work out
// the flags (the configuration was lost with the data directory).
std::string target_set_again(const OffsiteRestoreResult& r, const std::vector<std::string>& key_files) {
  std::string command = "facecrowd target set " + r.target;
  if (r.encryption == "key") {
    command += " --encryption key";
    for (const auto& k : key_files) command += " --key-file " + fs::absolute(k).string();
    if (key_files.empty()) command += " --key-file KEY";
  } else if (r.encryption == "passphrase") {
    command += " --encryption passphrase";  // the passphrase itself: $FACECROWD_BACKUP_PASSPHRASE
  } else if (r.encryption == "public-key") {
    command += " --encryption public-key --public-key RESTORE-KEY.pub";  // never the private key given here
  }
  return command;
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string input;
    std::string db;
    std::vector<std::string> collections;
    bool drop = false;
    bool dry_run = false;
    std::string until;
    std::string target;
    std::vector<std::string> key_files;
    bool allow_unauthenticated_index = false;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "restore",
      "Restore a backup into a database, atomically: the result is built beside the live data, checked\n"
      "(every sha256, size and document count against the manifest, every document decoded) and only then\n"
      "swapped in. On any failure (corrupt or truncated archive, conflict, disk full, a killed process) the\n"
      "live data is exactly as before. Needs the data directory to itself (exit 7 while another facecrowd\n"
      "process uses it).\n"
      "BACKUP is `latest` (newest archive in --backup-dir), an archive path or name, an extracted archive\n"
      "folder, or one <collection>.bson file.\n"
      "Without --drop every restored collection must be empty in the target (exit 5 names it and its count);\n"
      "collections not restored are kept. --until replays the archive's oplog and the shipped oplog slices\n"
      "in --backup-dir up to, not including, that position (mongorestore's --oplogLimit).\n"
      "Every GDPR erasure in <data>/erasure-ledger.jsonl is re-applied before the swap, so a person erased\n"
      "after the backup was taken never comes back (`facecrowd person erasures` lists them).\n"
      "Examples:\n"
      "  facecrowd restore backup_face-recognition_20240103_010000.tar.gz\n"
      "  facecrowd restore latest --dry-run                          # real counts, nothing written\n"
      "  facecrowd restore latest --db face-recognition-test         # a test restore beside the live db\n"
      "  facecrowd restore ARCHIVE --collection attendances --drop   # one collection, replacing it\n"
      "  facecrowd restore ./backup_face-recognition_20240103_010000/ --collection users --drop\n"
      "  facecrowd restore users.bson --db face-recognition-test\n"
      "  facecrowd restore ARCHIVE --until 1704240000:1              # point in time (secs:inc)\n"
      "  facecrowd restore latest --until 2024-01-03T09:30:00Z       # newest backup before it + oplog\n"
      "Disaster recovery from a backup target alone (an empty machine: no data, no backup directory):\n"
      "  facecrowd restore s3://my-bucket/facecrowd/latest [--until T] [--key-file FILE]\n"
      "  facecrowd restore latest --target /mnt/offsite               # a directory target\n"
      "downloads the archive, the shipped oplog slices and the erasure ledger into --backup-dir (each object\n"
      "checked against the target's index and decrypted), merges the ledger into <data>, restores to T or by\n"
      "default to the end of the last shipped slice, re-applies every erasure and reports the recovery point.\n"
      "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials (never flags).");
  cmd->add_option("BACKUP", opts->input, "latest | ARCHIVE.tar.gz | FOLDER | COLLECTION.bson")->required();
  cmd->add_option("--db", opts->db, "target database (default: the backup's own)");
  cmd->add_option("--collection", opts->collections,
                  "restore only this collection (repeatable): " + collection_names_joined());
  cmd->add_flag("--drop", opts->drop, "replace the restored collections' documents (as mongorestore --drop)");
  cmd->add_flag("--dry-run", opts->dry_run, "read, decode and check everything, report counts, write nothing");
  auto* until_flag = cmd->add_option("--until", opts->until, "point in time: SECS:INC (exclusive) or an ISO 8601 time (UTC unless an offset is given)");
  add_target_flag(cmd, opts->target, "restore from this backup target (s3://, gs:// or a directory) instead of --backup-dir");
  cmd->add_option("--key-file", opts->key_files,
                  "a key that may decrypt the target's objects (repeatable; 0600): a key file, or the private key of "
                  "write-only mode")
      ->allow_extra_args(false);  // one file per --key-file: what follows it is the positional BACKUP
  cmd->add_flag("--allow-unauthenticated-index", opts->allow_unauthenticated_index,
                "from a target encrypted with a key: use its index.json even without an authentication tag (one a "
                "facecrowd before index tags wrote; the next backup or oplog ship signs it), once you trust it");
  cmd->add_flag("--json", opts->json, "print the result as JSON");
  cmd->callback([opts, until_flag, &globals] {
    RestoreOptions options;
    options.db = opts->db;
    options.collections = opts->collections;
    options.drop = opts->drop;
    options.dry_run = opts->dry_run;
    options.backup_dir = globals.backup_dir;
    // Given means asked for: an empty --until (an unset shell variable) is refused, not read as "no point
    // in time", which would silently restore everything instead of the point asked for.
    if (until_flag->count() > 0) options.until = parse_until(opts->until);
    if (show_progress(globals)) options.progress = [](const std::string& line) { std::cerr << line << "\n"; };
    if (is_offsite_source(opts->input) || !opts->target.empty()) {
      OffsiteRestoreOptions offsite;
      offsite.restore = options;
      offsite.target = opts->target;
      for (const auto& k : opts->key_files) offsite.key_files.push_back(k);
      offsite.allow_unauthenticated_index = opts->allow_unauthenticated_index;
      auto r = restore_from_target(globals.data_dir, opts->input, offsite);
      if (!r.warnings.empty()) globals.exit_code = int(ExitCode::kWarning);  // restored, but short of what was shipped
      if (opts->json) {
        std::cout << r.to_json().dump(2) << "\n";
        return;
      }
      std::cout << "downloaded " << r.archive << " and " << counted(r.slices, "oplog slice") << " (" << r.downloaded_bytes
                << " bytes) from " << r.target << " in " << std::fixed << std::setprecision(1) << r.download_seconds << " s\n";
      print_result(r.inner.restore);
      if (r.ledger_records_added > 0)
        std::cout << "  erasure ledger: " << counted(r.ledger_records_added, "record") << " from the target added to the local ledger\n";
      if (r.inner.erasures.effect.changed())
        std::cout << "  erasure ledger re-applied: data of " << counted(r.inner.erasures.people_changed, "erased person", "erased people")
                  << " removed again\n";
      for (const auto& w : r.warnings) std::cout << "  warning: " << w << "\n";
      if (!r.index_authentication.warning.empty()) std::cout << "  warning: " << r.index_authentication.warning << "\n";
      // When it was written: an older signed index put back (which an empty machine cannot tell) shows its age.
      if (r.index_authentication.status == "authenticated")
        std::cout << "  index.json: authenticated with key " << r.index_authentication.key_id << ", written "
                  << r.index_authentication.updated_at << " (sequence " << r.index_authentication.sequence << ")\n";
      std::cout << "recovery point: " << oplog_position_text(r.recovery_point) << "; total " << std::fixed
                << std::setprecision(1) << r.seconds << " s\n";
      // After a disaster the target's configuration went with the data directory: cron's `backup` and
      // `oplog ship` would keep working locally, silently no longer off-site.
      if (!TargetConfig::load(globals.data_dir))
        std::cout << "note: no backup target is configured here, so new backups stay on this machine; `"
                  << target_set_again(r, opts->key_files) << "` sends them off-site again"
                  << (r.take_over_command.empty() ? "" : " (once this machine is the target's writer: below)") << "\n";
      // The old server's identity is not adopted (backup/offsite/writer_fence.h): two machines pushing to
      // one target would overwrite each other's objects.
      if (!r.take_over_command.empty())
        std::cout << "note: target " << r.target << " is written by another machine (" << describe_writer(*r.writer)
                  << "); pushes from this one are refused there until you run `" << r.take_over_command
                  << "`: run it only once the old server no longer pushes (retired, lost, or switched off), or the two "
                     "would overwrite each other's backups\n";
      return;
    }
    // DIR/latest, by analogy with s3://BUCKET/PREFIX/latest, where DIR is a directory target: say how that
    // is written instead of only "not found".
    {
      const fs::path given(opts->input);
      std::error_code ec;
      if (given.filename() == "latest" && given.has_parent_path() && !fs::exists(given, ec) &&
          fs::exists(given.parent_path() / "index.json", ec))
        throw Error(ExitCode::kNotFound, "backup '" + shortened(opts->input) + "' not found: '" + shortened(given.parent_path().string()) +
                                             "' is a directory backup target; restore its newest backup with `facecrowd restore latest "
                                             "--target " + shortened(given.parent_path().string()) + "`");
    }
    if (!opts->key_files.empty()) throw Error(ExitCode::kUsage, "--key-file applies only to a restore from a backup target");
    if (opts->allow_unauthenticated_index)
      throw Error(ExitCode::kUsage, "--allow-unauthenticated-index applies only to a restore from a backup target");
    // Through the app layer, so the erasure ledger is re-applied before the swap (DESIGN invariant 5).
    auto both = restore_with_erasures(globals.data_dir, opts->input, options);
    if (opts->json) {
      std::cout << both.to_json().dump(2) << "\n";
      return;
    }
    print_result(both.restore);
    if (both.erasures.effect.changed())
      std::cout << "  erasure ledger re-applied: data of " << counted(both.erasures.people_changed, "erased person", "erased people")
                << " removed again ("
                << both.erasures.effect.to_json().dump() << ")\n";
  });
});

}  // namespace
}  // namespace facecrowd
