// `facecrowd gallery index`: builds or refreshes the cached HNSW index of the enrolled faces
// (app/faces/gallery_index.h) that enroll and recognize search through when it pays.
#include <chrono>
#include <iostream>

#include "app/faces/gallery_index.h"
#include "cli/command.h"
#include "store/schema.h"
#include "vision/model_files.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  auto* group = app.add_subcommand("gallery", "The in-memory gallery of enrolled faces: its search index");
  group->require_subcommand(1);
  struct Options {
    std::string db{kDefaultDatabase};
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = group->add_subcommand(
      "index",
      "Build or refresh the HNSW index of every enrolled embedding of the current face model and keep it\n"
      "beside the database (<data>/<db>/gallery-index.ids + gallery-index-<token>.hnsw). recognize searches\n"
      "through it (~1.2 ms a face at 100k embeddings instead of ~3.5 ms scanning, after adding what was\n"
      "enrolled since) when the gallery has 5,000 embeddings or more and the photo 100 faces or more: reading\n"
      "and checking the index costs about 100 scans (recognize --search index|exact overrides). Building\n"
      "costs ~1 ms an embedding on 2 cores (about 1.5 minutes at 100k); a refresh re-uses the previous\n"
      "file and adds only the new embeddings. Run it after a bulk enrollment, or nightly from cron (the\n"
      "schedule of scripts/setup-cron-backup.sh runs it at 02:30). The store stays the truth:\n"
      "a stale or damaged index is reconciled or ignored, never trusted; an erasure deletes it.\n"
      "Example:\n"
      "  facecrowd gallery index --json");
  cmd->add_option("--db", opts->db, "database name")->capture_default_str();
  cmd->add_flag("--json", opts->json, "print JSON");
  cmd->callback([opts, &globals] {
    std::string model_version =
        vision::open_model_files(vision::find_models_dir(explicit_models_dir(globals))).embedding_model_version;
    if (show_progress(globals)) std::cerr << "indexing the gallery of " << model_version << "...\n";
    auto started = std::chrono::steady_clock::now();
    auto w = index_gallery(globals.data_dir, opts->db, model_version);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (opts->json) {
      std::cout << gallery_index_report_json(opts->db, model_version, w, seconds).dump(2) << "\n";
      return;
    }
    if (w.embeddings == 0) {
      std::cout << "no embeddings of " << model_version << " in " << opts->db << ": no index kept\n";
      return;
    }
    std::cout << "gallery index of " << w.embeddings << " embeddings written to " << w.file.string() << " ("
              << w.bytes << " bytes, " << seconds << " s; " << (w.reused_previous ? "refreshed: " : "built: ")
              << w.reuse.kept << " kept, " << w.reuse.added << " added, " << w.reuse.removed << " removed)\n";
    if (w.embeddings < kIndexedSearchFromSize)
      std::cout << "note: below " << kIndexedSearchFromSize << " embeddings enroll and recognize scan exactly; "
                   "the index is kept for when the gallery grows\n";
  });
});

}  // namespace
}  // namespace facecrowd
