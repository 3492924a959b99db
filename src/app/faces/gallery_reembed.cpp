#include "app/faces/gallery_reembed.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "app/faces/enrollment_face.h"
#include "app/faces/gallery_loader.h"
#include "app/photo_input.h"
#include "app/privacy/erasure_ledger.h"
#include "app/records/audit.h"
#include "core/error.h"
#include "core/object_id.h"
#include "core/utc_time.h"
#include "store/file_store.h"
#include "store/generation_claim.h"

namespace facecrowd {
namespace {

using Json = nlohmann::json;

// Profiles per transaction when dropping other models' embeddings (no networks: each is a small rewrite).
constexpr size_t kDropBatchProfiles = 64;

struct Work {
  std::string profile_id, file_id;
};

// One image's outcome: the embedding, or why there is none.
struct Made {
  Work work;
  std::optional<EmbeddingVector> unit;
  Json quality;
  std::string why;
};

void refuse_during_restore(Database& db) {
  if (!generation_being_built(db.file().parent_path()).empty())
    throw Error(ExitCode::kBusy, "gallery reembed: a restore is building a new generation of database '" + db.name() +
                                     "' (what this wrote now would be replaced at its swap); run it again when the "
                                     "restore has finished");
}

std::string file_name(Database::ReadTransaction& tx, const std::string& file_id) {
  auto info = file_info(tx, file_id);
  if (!info) return "";
  bson_iter_t it;
  return bson_iter_init_find(&it, info->get(), "filename") && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, nullptr) : "";
}

Made embed_stored_image(Database& db, vision::FacePipeline& pipeline, const Work& work) {
  Made made{work, std::nullopt, {}, {}};
  std::string bytes, name;
  {
    auto tx = db.read();
    name = file_name(tx, work.file_id);
    try {
      bytes = get_file(tx, work.file_id);
    } catch (const Error& e) {
      made.why = std::string("image not readable from the store: ") + e.what();
      return made;
    }
  }
  const std::string label = name.empty() ? work.file_id : name;
  try {
    Photo photo = decode_photo(std::move(bytes), label, pipeline.options().image);
    auto picked = pick_enrollment_face(find_enrollment_faces(pipeline, photo.bgr), /*largest=*/true, /*quality=*/nullptr);
    if (auto* reason = std::get_if<std::string>(&picked)) {
      made.why = *reason;
      return made;
    }
    const auto& face = std::get<vision::Face>(picked);
    made.unit = face.embedding.unit;
    made.quality = enrollment_quality_json(face);
  } catch (const Error& e) {
    std::string reason = e.what();
    std::string prefix = "image '" + label + "': ";  // photo_input's messages name the image; the report does too
    if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
    made.why = reason;
  }
  return made;
}

std::set<std::string> erased_people(Database& db) {
  std::set<std::string> erased;
  for (const auto& record : ErasureLedger(db.file().parent_path().parent_path()).read()) erased.insert(record.person_id);
  return erased;
}

// Writes one batch's embeddings in one transaction with its audit entry.
void write_batch(Database& db, const std::string& model_version, const std::vector<Made>& batch, const Actor& actor,
                 ReembedReport& report) {
  std::map<std::string, std::vector<const Made*>> by_profile;
  for (const auto& m : batch)
    if (m.unit) by_profile[m.work.profile_id].push_back(&m);
  if (by_profile.empty()) return;  // every image of the batch skipped: nothing to write
  refuse_during_restore(db);
  auto tx = db.write();
  const std::set<std::string> erased = erased_people(db);
  Json added = Json::array();
  const UnixMillis now = now_millis();
  auto skip = [&](const Made& m, const std::string& why) { report.skipped.push_back({m.work.profile_id, m.work.file_id, why}); };
  for (const auto& [profile_id, made] : by_profile) {
    std::optional<Document> doc = erased.count(profile_id) ? std::nullopt : tx.get("faceprofiles", profile_id);
    if (!doc) {
      for (const auto* m : made) skip(*m, "the profile was deleted or erased while re-embedding");
      continue;
    }
    ProfilePlan plan = plan_profile(*doc, model_version);
    Json j = doc->to_json();
    bool changed = false;
    for (const auto* m : made) {
      const std::string& file = m->work.file_id;
      if (std::find(plan.images.begin(), plan.images.end(), file) == plan.images.end()) {
        skip(*m, "the image was removed from the profile while re-embedding");
        continue;
      }
      auto pending = std::find(plan.to_embed.begin(), plan.to_embed.end(), file);
      if (pending == plan.to_embed.end()) {
        ++report.already;  // e.g. enrolled again, or another reembed run, meanwhile
        continue;
      }
      plan.to_embed.erase(pending);
      std::string embedding_id = new_object_id();
      if (!j.contains("embeddings") || !j["embeddings"].is_array()) j["embeddings"] = Json::array();
      j["embeddings"].push_back(embedding_document(embedding_id, *m->unit, model_version, file, m->quality));
      added.push_back({{"profileId", profile_id}, {"embeddingId", embedding_id}, {"fileId", file}});
      changed = true;
    }
    if (!changed) continue;
    j["updatedAt"] = {{"$date", now}};
    tx.replace("faceprofiles", Document::from_json(j, "face profile " + profile_id));
    ++report.profiles_changed;
  }
  if (added.empty()) return;  // nothing to write: the transaction rolls back
  int64_t batch_skipped = 0;
  for (const auto& m : batch) batch_skipped += !m.unit;
  append_audit(tx, AuditEntry{.action = "gallery.reembed",
                              .target = model_version,
                              .actor = actor.id,
                              .client_address = actor.client_address,
                              .details = {{"run", report.run_id}, {"batch", report.batches + 1},
                                          {"modelVersion", model_version}, {"added", added},
                                          {"skipped", batch_skipped}}});
  tx.commit();
  report.embedded += int64_t(added.size());
  ++report.batches;
}

// A profile's embeddings without those of other models whose source image has one of `model_version`.
struct Pruned {
  Json kept = Json::array();
  int64_t removed = 0, kept_other = 0;
};
Pruned prune_other_models(const Document& profile, const std::string& model_version) {
  Pruned out;
  auto stored = profile_embeddings(profile);
  std::set<std::string> covered;
  for (const auto& e : stored)
    if (e.model_version == model_version && e.source_file_id) covered.insert(*e.source_file_id);
  Json j = profile.to_json();
  if (!j.contains("embeddings") || !j["embeddings"].is_array()) return out;
  for (size_t i = 0; i < stored.size() && i < j["embeddings"].size(); ++i) {
    const auto& e = stored[i];
    if (e.model_version == model_version) {
      out.kept.push_back(j["embeddings"][i]);
    } else if (e.source_file_id && covered.count(*e.source_file_id)) {
      ++out.removed;
    } else {
      ++out.kept_other;
      out.kept.push_back(j["embeddings"][i]);
    }
  }
  return out;
}

void drop_other_models(Database& db, const std::string& model_version, const Actor& actor, bool dry_run,
                       ReembedReport& report) {
  std::vector<std::string> profiles;
  {
    auto tx = db.read();
    tx.find("faceprofiles", Query{}, [&](const Document& profile) {
      Pruned p = prune_other_models(profile, model_version);
      if (dry_run) {
        report.dropped += p.removed;
        report.kept_other_models += p.kept_other;
      } else if (p.removed > 0) {
        profiles.push_back(*profile.id_key());
      }
      return true;
    });
  }
  if (dry_run) return;
  for (size_t from = 0; from < profiles.size(); from += kDropBatchProfiles) {
    refuse_during_restore(db);
    auto tx = db.write();
    Json changed = Json::array();
    int64_t removed = 0;
    for (size_t i = from; i < profiles.size() && i < from + kDropBatchProfiles; ++i) {
      auto doc = tx.get("faceprofiles", profiles[i]);
      if (!doc) continue;
      Pruned p = prune_other_models(*doc, model_version);
      if (p.removed == 0) continue;
      Json j = doc->to_json();
      j["embeddings"] = std::move(p.kept);
      j["updatedAt"] = {{"$date", now_millis()}};
      tx.replace("faceprofiles", Document::from_json(j, "face profile " + profiles[i]));
      changed.push_back(profiles[i]);
      removed += p.removed;
    }
    if (removed == 0) continue;
    append_audit(tx, AuditEntry{.action = "gallery.drop-other-models",
                                .target = model_version,
                                .actor = actor.id,
                                .client_address = actor.client_address,
                                .details = {{"run", report.run_id}, {"modelVersion", model_version},
                                            {"removed", removed}, {"profiles", changed}}});
    tx.commit();
    report.dropped += removed;
  }
  // What is left of other models, from the end state.
  auto tx = db.read();
  tx.find("faceprofiles", Query{}, [&](const Document& profile) {
    report.kept_other_models += prune_other_models(profile, model_version).kept_other;
    return true;
  });
}

std::string duration_text(double seconds) {
  int64_t s = int64_t(std::llround(std::max(0.0, seconds)));
  if (s >= 3600) return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
  if (s >= 60) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s) + "s";
}

}  // namespace

std::string format_reembed_progress(const ReembedProgress& p) {
  std::string line = "reembed " + std::to_string(p.done) + "/" + std::to_string(p.total) + " images (" +
                     std::to_string(p.embedded) + " embedded, " + std::to_string(p.skipped) + " skipped)";
  if (p.done == 0 || p.seconds <= 0) return line;
  double rate = double(p.done) / p.seconds;
  char rate_text[32];
  std::snprintf(rate_text, sizeof rate_text, "%.2f", rate);
  return line + ", " + rate_text + " images/s, ETA " + duration_text(double(p.total - p.done) / rate);
}

ReembedReport reembed_gallery(Database& db, vision::FacePipeline& pipeline, const Actor& actor,
                              const ReembedOptions& options) {
  if (options.batch_images < 1) throw Error(ExitCode::kUsage, "gallery reembed: the batch size must be at least 1");
  if (options.limit && *options.limit < 1) throw Error(ExitCode::kUsage, "gallery reembed: --limit must be at least 1");
  refuse_during_restore(db);
  const auto started = std::chrono::steady_clock::now();
  ReembedReport report;
  report.model_version = pipeline.models().embedding_model_version;
  report.run_id = new_object_id();
  report.dry_run = options.dry_run;

  // 1. The work, from one snapshot.
  std::vector<Work> work;
  {
    auto tx = db.read();
    report.before = survey_gallery(tx, report.model_version);
    tx.find("faceprofiles", Query{}, [&](const Document& profile) {
      ProfilePlan plan = plan_profile(profile, report.model_version);
      for (const auto& file : plan.to_embed) {
        if (options.limit && int64_t(work.size()) >= *options.limit) ++report.remaining;
        else work.push_back({plan.profile_id, file});
      }
      return true;
    });
  }
  report.planned = int64_t(work.size());

  // 2. Embed and write, a batch at a time.
  if (!options.dry_run) {
    ReembedProgress progress;
    progress.total = report.planned;
    const auto first = std::chrono::steady_clock::now();
    for (size_t from = 0; from < work.size(); from += size_t(options.batch_images)) {
      std::vector<Made> batch;
      for (size_t i = from; i < work.size() && i < from + size_t(options.batch_images); ++i) {
        batch.push_back(embed_stored_image(db, pipeline, work[i]));
        const Made& m = batch.back();
        if (!m.unit) report.skipped.push_back({m.work.profile_id, m.work.file_id, m.why});
        ++progress.done;
        progress.embedded += m.unit.has_value();
        progress.skipped += !m.unit;
        progress.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - first).count();
        if (options.progress) options.progress(progress);
      }
      write_batch(db, report.model_version, batch, actor, report);
    }
  }

  // 3. Other models' embeddings: kept unless asked, and then only after every planned image was tried.
  if (options.drop_other_models && report.remaining == 0) drop_other_models(db, report.model_version, actor, options.dry_run, report);

  {
    auto tx = db.read();
    report.after = options.dry_run ? report.before : survey_gallery(tx, report.model_version);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

Json ReembedReport::to_json(bool drop_requested) const {
  Json reasons = Json::object();
  Json images = Json::array();
  for (const auto& s : skipped) {
    reasons[s.reason] = reasons.value(s.reason, 0) + 1;
    images.push_back({{"profileId", s.profile_id}, {"fileId", s.file_id}, {"reason", s.reason}});
  }
  Json drop = nullptr;
  if (drop_requested)
    drop = {{"done", remaining == 0}, {"dropped", dropped}, {"kept", kept_other_models}};
  return {{"modelVersion", model_version},
          {"runId", run_id},
          {"dryRun", dry_run},
          {"profiles", before.profiles},
          {"images", before.images},
          {"planned", planned},
          {"embedded", embedded},
          {"already", already},
          {"skipped", {{"count", skipped.size()}, {"reasons", reasons}, {"images", images}}},
          {"remaining", remaining},
          {"complete", complete()},
          {"profilesChanged", profiles_changed},
          {"batches", batches},
          {"dropOtherModels", drop},
          {"embeddingsBefore", before.embeddings},
          {"embeddingsAfter", after.embeddings},
          {"profilesWithoutModelBefore", before.profiles_without_model},
          {"profilesWithoutModelAfter", after.profiles_without_model},
          {"seconds", std::round(seconds * 1000) / 1000}};
}

}  // namespace facecrowd
