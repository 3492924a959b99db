// `facecrowd gallery reembed`: after a change of face model, embeds every profile's stored facial images
// that have no embedding of the current model, so that no enrolled person drops out of recognition
// (app/faces/gallery_models.h explains why they would).
// Contract of reembed_gallery():
//  - The work: for every profile, every stored facial image (gallery_models.h's profile_image_ids) without
//    an embedding of the pipeline's model, in profile-id order. Each is embedded as enrollment embeds a
//    photo (app/faces/enrollment_face.h: the same detection passes and the main face by score and size;
//    no quality gate: the image was accepted when it was stored) and stored as enrollment stores one
//    ({_id, vector, modelVersion, sourceFileId, quality}). An image that cannot be read from the store
//    (missing or damaged file), is not an image, or shows no face is skipped with that reason, and written
//    nothing; a later run tries it again.
//  - Batches: the images of one batch (`batch_images`) are embedded outside any transaction, then written
//    in ONE write transaction with one "gallery.reembed" audit entry (target: the model; details: run id,
//    batch number, {profileId, embeddingId, fileId} of each embedding added, skipped count); every change
//    goes through the store's oplog, so backups and point-in-time recovery carry it. A crash or an error
//    loses at most the batch in flight and never leaves part of one. Inside the transaction each profile is
//    read again: a profile deleted or erased meanwhile (the erasure ledger is read there, as recognize
//    does) gets nothing, and an image that got an embedding of the model meanwhile is not embedded twice.
//  - Idempotent and resumable: a run after a finished run embeds nothing and writes nothing; a run after an
//    interrupted one (a crash, Ctrl-C, `limit`) does only what is left.
//  - Embeddings of other models are kept (switching back to that model needs them), unless
//    drop_other_models: then, once every planned image was tried (not when stopped by `limit`), an
//    embedding of another model is removed from its profile only when its source image now has an embedding
//    of the current model; the others (no source image, or an image that could not be embedded) are kept
//    and counted. In batches of profiles, each with a "gallery.drop-other-models" audit entry.
//  - dry_run: reads only; reports the work (and what drop_other_models could remove now) without running
//    the networks.
//  - Refused with Error(kBusy), nothing written, while a restore builds a new generation of this database
//    (store/generation_claim.h): what it wrote would be replaced at the restore's swap. Checked before the
//    run and before every batch. (Another process's restore that needs the data directory to itself
//    cannot start while this holds it open.)
//  - progress() is called after every image with the counts so far (format_reembed_progress words it).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/faces/gallery_models.h"
#include "app/users/users.h"
#include "store/database.h"
#include "vision/face_pipeline.h"

namespace facecrowd {

struct ReembedProgress {
  int64_t done = 0, total = 0;  // images tried, images planned
  int64_t embedded = 0, skipped = 0;
  double seconds = 0;           // since the first image
};
// "reembed 40/1200 images (38 embedded, 2 skipped), 3.1 images/s, ETA 6m14s"
std::string format_reembed_progress(const ReembedProgress& progress);

struct ReembedOptions {
  bool dry_run = false;
  int64_t batch_images = 16;      // images per write transaction (>= 1)
  std::optional<int64_t> limit;   // try at most this many images in this run (>= 1); a later run continues
  bool drop_other_models = false;
  std::function<void(const ReembedProgress&)> progress;
};

struct ReembedSkip {
  std::string profile_id, file_id, reason;
};

struct ReembedReport {
  std::string model_version, run_id;
  bool dry_run = false;
  int64_t planned = 0;    // images this run was to try
  int64_t remaining = 0;  // images left for a later run because of `limit`
  int64_t embedded = 0;
  int64_t already = 0;    // got an embedding of the model from elsewhere while this ran
  std::vector<ReembedSkip> skipped;
  int64_t profiles_changed = 0, batches = 0;
  int64_t dropped = 0;          // drop_other_models: embeddings of other models removed (dry run: removable)
  int64_t kept_other_models = 0;  // drop_other_models: kept, their image having no embedding of the model
  GallerySurvey before, after;
  double seconds = 0;
  // Nothing left to embed: every image tried and embedded (a dry run: none planned).
  bool complete() const { return remaining == 0 && skipped.empty() && (!dry_run || planned == 0); }
  // {modelVersion, runId, dryRun, profiles, images, planned, embedded, already, skipped: {count, reasons:
  //  {reason: n}, images: [{profileId, fileId, reason}]}, remaining, complete, profilesChanged, batches,
  //  dropOtherModels: {dropped, kept}|null, embeddingsBefore, embeddingsAfter, profilesWithoutModelBefore,
  //  profilesWithoutModelAfter, before, after, seconds}
  nlohmann::json to_json(bool drop_requested) const;
};

// Error(kUsage) for batch_images or limit < 1.
ReembedReport reembed_gallery(Database& db, vision::FacePipeline& pipeline, const Actor& actor,
                              const ReembedOptions& options);

}  // namespace facecrowd
