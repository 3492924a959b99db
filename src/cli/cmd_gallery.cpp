// `facecrowd gallery index`: builds or refreshes the cached HNSW index of the enrolled faces
// (app/faces/gallery_index.h) that enroll and recognize search through when it pays.
// `facecrowd gallery status`: which face models the gallery's embeddings are of, and who recognition cannot
// find under the current one (app/faces/gallery_models.h).
// `facecrowd gallery reembed`: embeds the stored facial images with the current model
// (app/faces/gallery_reembed.h), then refreshes a kept index.
#include <chrono>
#include <iostream>
#include <memory>

#include "app/faces/gallery_index.h"
#include "app/faces/gallery_models.h"
#include "app/faces/gallery_reembed.h"
#include "app/records/audit.h"
#include "cli/command.h"
#include "cli/face_options.h"
#include "core/error.h"
#include "core/number_text.h"
#include "store/data_dir.h"
#include "store/schema.h"
#include "vision/model_files.h"

namespace facecrowd {
namespace {

// The selected face model's (--face-model / $FACECROWD_FACE_MODEL, vision/face_model.h).
std::string current_model_version(const GlobalOptions& globals) {
  return vision::open_model_files(vision::find_models_dir(explicit_models_dir(globals)), selected_face_model(globals))
      .embedding_model_version;
}

// Reembed progress on stderr, also when stderr is a log file: on a terminal one line rewritten in place,
// otherwise the first image, then at most a line every 10 s, and the last. --quiet prints nothing.
std::function<void(const ReembedProgress&)> reembed_progress_printer(const GlobalOptions& globals) {
  if (globals.quiet) return {};
  const bool terminal = show_progress(globals);
  auto last_line = std::make_shared<std::chrono::steady_clock::time_point>();
  return [terminal, last_line](const ReembedProgress& p) {
    auto now = std::chrono::steady_clock::now();
    const bool last = p.done == p.total;
    if (!terminal && p.done != 1 && !last && now - *last_line < std::chrono::seconds(10)) return;
    *last_line = now;
    std::string line = format_reembed_progress(p);
    if (terminal) std::cerr << "\r" << line << "   " << (last ? "\n" : "") << std::flush;
    else std::cerr << line << "\n" << std::flush;
  };
}

void add_status(CLI::App* group, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = group->add_subcommand(
      "status",
      "Which face models the enrolled embeddings were made by, and how many profiles recognition cannot find\n"
      "with the current model (they have embeddings, but none of it: the model was switched). Exit 1 when\n"
      "there are such profiles (the remedy is `facecrowd gallery reembed`), 0 otherwise. Reads only.\n"
      "Example:\n"
      "  facecrowd gallery status --json");
  cmd->add_option("--db", opts->db, "database name")->capture_default_str();
  cmd->add_flag("--json", opts->json, "print JSON");
  cmd->callback([opts, &globals] {
    const std::string model_version = current_model_version(globals);
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
    GallerySurvey survey;
    {
      auto tx = db->read();
      survey = survey_gallery(tx, model_version);
    }
    auto warning = gallery_model_warning(survey.profiles_without_model, model_version,
                                         survey.models_of_profiles_without_model);
    const bool index = gallery_index_kept(db->file().parent_path());
    if (warning) globals.exit_code = int(ExitCode::kWarning);
    if (opts->json) {
      auto j = survey.to_json();
      j["db"] = opts->db;
      j["indexKept"] = index;
      j["warning"] = warning ? nlohmann::json(*warning) : nlohmann::json(nullptr);
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << "gallery of " << opts->db << ": " << survey.profiles << " profiles, current face model " << model_version
              << "\n";
    for (const auto& [model, n] : survey.embeddings)
      std::cout << "  " << n << " embeddings of " << model << (model == model_version ? " (current)" : "") << "\n";
    std::cout << "  " << survey.profiles_with_model << " profiles recognisable, " << survey.profiles_without_model
              << " with embeddings of other models only, " << survey.profiles_without_embeddings << " without embeddings\n"
              << "  " << survey.images_to_embed << " of " << survey.images
              << " stored facial images have no embedding of the current model\n"
              << "  search index: " << (index ? "kept" : "none") << "\n";
    if (warning) std::cerr << "warning: " << *warning << "\n";
  });
}

void add_reembed(CLI::App* group, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    bool dry_run = false, drop_other_models = false, json = false;
    int64_t batch = ReembedOptions{}.batch_images;
    int64_t limit = 0;
    DetectorFlag detector;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = group->add_subcommand(
      "reembed",
      "After a change of face model: embed every profile's stored facial images that have no embedding of\n"
      "the current model, exactly as enrollment embeds a photo, so that nobody drops out of recognition.\n"
      "Progress (images, rate, time left) goes to stderr. The work is written in batches, each in one\n"
      "transaction with an audit entry (gallery.reembed) and its oplog entries (backups and point-in-time\n"
      "recovery carry it): an interrupted run loses at most one batch, and running it again continues where\n"
      "it stopped; a finished run changes nothing when run again. An image that cannot be read, or shows no\n"
      "face, is skipped and named with the reason (exit 1); the others are embedded. Embeddings of other\n"
      "models are kept, so switching back needs no work, unless --drop-other-models (after a run that tried\n"
      "every image: an old embedding goes only when its image has one of the current model). A kept search\n"
      "index (`gallery index`) is refreshed. Refused (exit 7) while a restore runs on the data directory.\n"
      "Examples:\n"
      "  facecrowd gallery reembed --dry-run\n"
      "  facecrowd gallery reembed --json > reembed.json\n"
      "  facecrowd gallery reembed --limit 5000            # a slice a night; the next run continues\n"
      "  facecrowd gallery reembed --drop-other-models");
  cmd->add_option("--db", opts->db, "database name")->capture_default_str();
  cmd->add_flag("--dry-run", opts->dry_run, "count the work (and what --drop-other-models could remove now); write nothing, run no network");
  cmd->add_option("--batch", opts->batch, "images per transaction (what a crash can lose at most)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t(1), int64_t(100000)));
  cmd->add_option("--limit", opts->limit, "embed at most this many images in this run; a later run continues")
      ->check(CLI::Range(int64_t(1), INT64_MAX));
  cmd->add_flag("--drop-other-models", opts->drop_other_models,
                "then remove embeddings of other models whose image has one of the current model");
  opts->detector.add_to(cmd);
  cmd->add_flag("--json", opts->json, "print the summary as JSON");
  cmd->callback([opts, &globals] {
    ReembedOptions options;
    options.dry_run = opts->dry_run;
    options.batch_images = opts->batch;
    if (opts->limit > 0) options.limit = opts->limit;
    options.drop_other_models = opts->drop_other_models;
    options.progress = reembed_progress_printer(globals);
    auto pipeline = open_face_pipeline(globals, opts->detector);
    ReembedReport report;
    bool refresh_index = false;
    {
      auto db = Database::open(DataDir::open(globals.data_dir), opts->db, {.create_if_missing = false});
      report = reembed_gallery(*db, *pipeline, Actor{default_audit_actor(), "local"}, options);
      refresh_index = !report.dry_run && (report.embedded > 0 || report.dropped > 0) &&
                      gallery_index_kept(db->file().parent_path());
    }
    nlohmann::json j = report.to_json(opts->drop_other_models);
    j["db"] = opts->db;
    j["index"] = nullptr;
    if (refresh_index) {
      auto w = index_gallery(globals.data_dir, opts->db, report.model_version);
      j["index"] = {{"embeddings", w.embeddings}, {"added", w.reuse.added}, {"removed", w.reuse.removed},
                    {"file", w.file.string()}};
    }
    if (!report.complete() && !report.dry_run) globals.exit_code = int(ExitCode::kWarning);
    if (opts->json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    for (const auto& s : report.skipped)
      std::cerr << "skipped: profile " << s.profile_id << ", image " << s.file_id << ": " << s.reason << "\n";
    std::cout << (report.dry_run ? "dry run: would embed " : "embedded ") << (report.dry_run ? report.planned : report.embedded)
              << " of " << counted(report.planned, "image") << " with " << report.model_version << " ("
              << counted(report.before.profiles, "profile") << ", " << counted(report.before.images, "stored facial image")
              << ")";
    if (!report.dry_run) std::cout << ", " << report.skipped.size() << " skipped, " << counted(report.batches, "batch", "batches");
    std::cout << "\n";
    if (report.remaining > 0)
      std::cout << counted(report.remaining, "image") << " left for the next run (--limit)\n";
    std::cout << "profiles without an embedding of the current model: " << report.before.profiles_without_model
              << (report.dry_run ? "" : " -> " + std::to_string(report.after.profiles_without_model)) << "\n";
    if (opts->drop_other_models)
      std::cout << (report.dry_run ? "--drop-other-models could remove " : "removed ") << report.dropped
                << " " << noun_for(report.dropped, "embedding") << " of other models; kept " << report.kept_other_models
                << " whose image has no embedding of the current model\n";
    if (!j["index"].is_null()) std::cout << "search index refreshed: " << j["index"]["embeddings"] << " embeddings\n";
  });
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  auto* group = app.add_subcommand(
      "gallery", "The gallery of enrolled faces: its search index, its face models, re-embedding after a model change");
  group->require_subcommand(1);
  add_status(group, globals);
  add_reembed(group, globals);
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
    std::string model_version = current_model_version(globals);
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
