// `facecrowd oplog ship [--watch --interval 60s] [--json]`: continuous oplog shipping (backup/oplog_shipper.h).
#include <csignal>
#include <iostream>

#include "backup/oplog_shipper.h"
#include "cli/command.h"
#include "cli/offsite_cli.h"
#include "cli/target_flag.h"
#include "core/error.h"
#include "core/utc_time.h"

namespace facecrowd {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

// SIGINT/SIGTERM end a watch between ships, never in the middle of a slice.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

DataDir open_existing_data_dir(const std::string& root) {
  std::error_code ec;
  if (!std::filesystem::exists(root, ec))
    throw Error(ExitCode::kNotFound, "data directory '" + root + "' does not exist (set --data or FACECROWD_DATA)");
  return DataDir::open(root);
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    ShipOptions ship;
    bool watch = false;
    std::string interval = "60s";
    std::string keep_live = "1h";
    std::string target;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* oplog = app.add_subcommand("oplog", "Oplog shipping for point-in-time recovery");
  oplog->require_subcommand(1);
  auto* ship = oplog->add_subcommand("ship", "Ship new oplog entries into a slice beside the backups");
  ship->footer(
      "Copies the oplog entries written since the last ship into an oplog_<from>_<to>.bson.gz slice in the\n"
      "backup directory, so `facecrowd restore ARCHIVE --until TIME` reaches any moment between two backups.\n"
      "Each slice starts where the previous one ended, so `facecrowd backups list` can prove the chain has no\n"
      "gap. With nothing new, nothing is written. Afterwards shipped live oplog entries older than --keep-live\n"
      "are trimmed, and slices that no kept backup needs are deleted.\n\n"
      "Run it every minute from cron (scripts/setup-cron-backup.sh) or keep one running with --watch:\n"
      "  facecrowd oplog ship                          ship once (exit 0; 7 when another ship is running)\n"
      "  facecrowd oplog ship --watch --interval 60s   ship every 60 s until SIGINT/SIGTERM\n"
      "In --watch mode a failed ship is reported and retried at the next interval.");
  ship->add_option("--db", opts->ship.db, "database to ship")->capture_default_str();
  ship->add_flag("--watch", opts->watch, "keep shipping every --interval until SIGINT/SIGTERM");
  ship->add_option("--interval", opts->interval, "time between ships with --watch (e.g. 60s, 5m)")->capture_default_str();
  ship->add_option("--keep-live", opts->keep_live,
                   "keep shipped entries in the live oplog this long (a running backup reads them)")
      ->capture_default_str();
  ship->add_option("--max-slice-entries", opts->ship.max_slice_entries, "entries per slice at most")->capture_default_str();
  add_target_flag(ship, opts->target,
                   "also send new slices (and archives, and the erasure ledger) to this target: s3://BUCKET/PREFIX, "
                   "gs://BUCKET/PREFIX or a directory (default: the configured target, if any)");
  ship->add_flag("--json", opts->json, "print each ship as one JSON line");
  ship->callback([opts, &globals] {
    auto interval = parse_duration_seconds(opts->interval);
    if (!interval || *interval < 1)
      throw Error(ExitCode::kUsage, "--interval '" + opts->interval + "' is not a duration of at least 1s (e.g. 60s)");
    auto keep = parse_duration_seconds(opts->keep_live);
    if (!keep || *keep < 0) throw Error(ExitCode::kUsage, "--keep-live '" + opts->keep_live + "' is not a duration (e.g. 1h)");
    opts->ship.keep_live_seconds = *keep;
    auto data = open_existing_data_dir(globals.data_dir);
    auto target = resolve_target(globals, opts->target);
    if (target) open_backup_target(target->target);  // a malformed target or missing credentials: fail now
    auto print = [opts, target, &globals](const ShipResult& r) {
      // Off-site after every ship, so the off-site RPO is the ship interval too.
      std::optional<PushResult> pushed;
      if (target) {
        try {
          pushed = push_backup_dir(globals, *target, opts->ship.db, true);
          if (!pushed->not_sent.empty()) globals.exit_code = int(ExitCode::kWarning);  // the target is short of this directory
        } catch (const Error& e) {
          // The slices are safe on this disk and the next ship sends them: say so, not only what failed.
          Error failed(e.code(), "the oplog ship is complete locally (" + r.summary() + "), but sending it to '" + target->target +
                                     "' failed: " + e.what());
          if (opts->json) std::cout << offsite_failure_json(r.to_json(), failed).dump() << std::endl;
          throw failed;
        }
      }
      if (opts->json) {
        auto j = r.to_json();
        if (pushed) j["offsite"] = pushed->to_json();
        std::cout << j.dump() << std::endl;
      } else {
        std::cout << (opts->watch ? format_iso8601(now_millis()) + " " : "") << r.summary() << std::endl;
        if (pushed) std::cout << "  " << pushed->summary() << std::endl;
      }
    };
    if (!opts->watch) {
      print(ship_oplog(data, globals.backup_dir, opts->ship));
      return;
    }
    install_stop_handlers();
    watch_oplog(
        data, globals.backup_dir, opts->ship, *interval, [] { return g_stop != 0; }, print,
        [](const std::exception& e) {
          std::cerr << format_iso8601(now_millis()) << " error: " << e.what() << " (retrying next interval)" << std::endl;
        });
    std::cerr << "oplog ship: stopped by signal" << std::endl;
  });
});

}  // namespace
}  // namespace facecrowd
