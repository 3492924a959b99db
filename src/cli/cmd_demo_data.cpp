// `facecrowd demo-data`: fills a database with a realistic synthetic deployment (devtools/demo_data.h).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "devtools/demo_data.h"
#include "cli/command.h"
#include "core/error.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    DemoDataOptions demo;
    std::string now;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "demo-data",
      "Fill an empty database with a realistic synthetic deployment, for trying facecrowd out, tests and\n"
      "benchmarks: users, face profiles with 128-D embeddings and JPEG face images, attendances over the\n"
      "last 18 months with group photos, hourly-ish crowd counts per location with crowd images and density\n"
      "maps, and audit entries. Every size is a flag; the same --seed (and --now) gives the same data.\n"
      "Every document is written through the store's one write path, oplog included.\n\n"
      "Examples:\n"
      "  facecrowd demo-data                                   small deployment into face-recognition\n"
      "  facecrowd demo-data --db bench --attendances 1000000 --auditlogs 2000000 --image-mb 200\n"
      "Refuses a database that already holds documents (exit 5) unless --append.");
  cmd->add_option("--db", opts->db, "database to fill")->capture_default_str();
  cmd->add_option("--users", opts->demo.users, "user accounts")->capture_default_str();
  cmd->add_option("--profiles", opts->demo.profiles, "face profiles (people)")->capture_default_str();
  cmd->add_option("--attendances", opts->demo.attendances, "attendance records")->capture_default_str();
  cmd->add_option("--crowdcounts", opts->demo.crowdcounts, "crowd counts")->capture_default_str();
  cmd->add_option("--auditlogs", opts->demo.auditlogs, "audit entries")->capture_default_str();
  cmd->add_option("--image-mb", opts->demo.image_mb, "total size of the JPEG images, in MiB")->capture_default_str();
  cmd->add_option("--seed", opts->demo.seed, "random seed")->capture_default_str();
  cmd->add_option("--embedding-model", opts->demo.embedding_model,
                  "modelVersion of the synthetic embeddings; the default is loaded by no command, the prepared "
                  "models' version (`facecrowd models check --json`) gives a gallery to benchmark search with")
      ->capture_default_str();
  cmd->add_option("--now", opts->now, "pretend the current time is this ISO 8601 time (reproducible data)");
  cmd->add_option("--batch", opts->demo.batch_documents, "documents per transaction")->capture_default_str();
  cmd->add_flag("--append", opts->demo.append, "add to a database that already holds documents");
  cmd->add_flag("--json", opts->json, "print the report as JSON");
  cmd->callback([opts, &globals] {
    if (!opts->now.empty()) {
      auto t = parse_iso8601(opts->now);
      if (!t) throw Error(ExitCode::kUsage, "--now '" + opts->now + "' is not an ISO 8601 time (e.g. 2026-03-02T12:00:00Z)");
      opts->demo.now = *t;
    }
    validate_demo_data_options(opts->demo);
    if (show_progress(globals)) {
      auto last = std::make_shared<std::chrono::steady_clock::time_point>();
      opts->demo.progress = [last](const std::string& stage, int64_t done, int64_t total) {
        auto now = std::chrono::steady_clock::now();
        if (done != total && now - *last < std::chrono::milliseconds(200)) return;
        *last = now;
        std::fprintf(stderr, "\r%-14s %lld / %lld   ", stage.c_str(), static_cast<long long>(done),
                     static_cast<long long>(total));
        if (done == total) std::fputc('\n', stderr);
      };
    }
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db);
    auto report = generate_demo_data(*db, opts->demo);
    if (opts->json) {
      std::cout << report.to_json().dump(2) << "\n";
      return;
    }
    std::printf("demo data in database %s: %lld users, %lld profiles, %lld attendances, %lld crowd counts, "
                "%lld audit entries, %lld files (%.1f MiB)\n",
                opts->db.c_str(), static_cast<long long>(report.users), static_cast<long long>(report.profiles),
                static_cast<long long>(report.attendances), static_cast<long long>(report.crowdcounts),
                static_cast<long long>(report.auditlogs), static_cast<long long>(report.files),
                double(report.file_bytes) / 1048576.0);
    std::printf("%lld documents in %.1f s (%.0f documents/s)\n", static_cast<long long>(report.documents),
                report.seconds, report.seconds > 0 ? double(report.documents) / report.seconds : 0.0);
    // A new user's next step is `recognize`, which then warns that none of these people can be found: say
    // so here, and what to do, before they chase `gallery reembed` (which finds no face in these images).
    if (report.profiles > 0 && opts->demo.embedding_model == kOldSystemEmbeddingModel)
      std::printf("note: the %lld face profiles are synthetic: random embeddings stamped with model '%s', which no\n"
                  "  command loads, and images with no face in them. `facecrowd recognize` cannot find these people (it\n"
                  "  warns so) and `facecrowd gallery reembed` cannot embed them. To try recognition, enroll real people:\n"
                  "  `facecrowd enroll --name NAME PHOTO`. Everything else (attendance, crowd counts, backups, restore,\n"
                  "  export, retention) works on this data as on a real deployment's.\n",
                  static_cast<long long>(report.profiles), kOldSystemEmbeddingModel);
  });
});

}  // namespace
}  // namespace facecrowd
