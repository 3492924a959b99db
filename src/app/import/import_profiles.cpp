// Section 3 of the import: face profiles read, their descriptors checked against facecrowd's model
// (app/import/profile_embeddings.h), written (app/import/import_run.h).
#include <algorithm>
#include <cmath>

#include "app/faces/gallery_loader.h"
#include "app/import/import_run.h"
#include "app/import/profile_embeddings.h"
#include "core/utc_time.h"

namespace facecrowd {
namespace {

using Vec = ImportVector;

std::optional<Vec> unit_vector(const std::vector<double>& v, float& norm) {
  double s = 0;
  for (double x : v) s += x * x;
  norm = float(std::sqrt(s));
  if (!(norm > 1e-6f) || !std::isfinite(norm)) return std::nullopt;
  Vec out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = float(v[i] / norm);
  return out;
}

}  // namespace

// 3. Face profiles: read, check the descriptors against facecrowd's model, write.
void import_profiles(ImportRun& run) {
  const GridFsSource& gridfs = *run.gridfs;
  std::vector<ImportedProfile> profiles;
  for (const auto& [c, m] : run.first("faceprofiles")) {
    run.say("reading " + c->name);
    auto& r = run.report_for(c, m);
    for_each_mapped_document(*c, *m, [&](MappedDocument& d) {
      std::string why;
      auto name = mapped_text(d, *m, "name", why);
      if (!name || name->empty()) {
        refuse(r, d.id_key(), name ? "empty name" : why);
        return;
      }
      if (!claim_id(run, r, d, m->as)) return;
      ImportedProfile p;
      p.id = d.id_key();
      p.name = *name;
      if (auto e = d.field("externalId")) {
        p.external_id = import_text(*e);
        if (!p.external_id) {
          if (auto n = import_number(*e)) p.external_id = std::to_string(int64_t(*n));
        }
      }
      p.created = mapped_date(d, "createdAt");
      p.updated = mapped_date(d, "updatedAt");
      if (auto it = d.field("descriptors")) {
        std::string dwhy;
        if (auto ds = import_descriptors(*it, dwhy)) {
          for (const auto& v : *ds) {
            float norm = 0;
            if (auto u = unit_vector(v, norm)) {
              p.descriptors.push_back(*u);
              p.descriptor_norms.push_back(norm);
            } else {
              p.notes.push_back("a descriptor of zero length was left out");
            }
          }
        } else {
          p.notes.push_back("descriptors not usable (" + dwhy + "); kept under legacy");
          d.keep_in_legacy("descriptors");
        }
      }
      if (auto it = d.field("images")) {
        if (auto ids = import_object_ids(*it)) {
          for (const auto& id : *ids) {
            auto stored = run.file_ids.find(id);
            if (stored == run.file_ids.end()) {
              p.notes.push_back("image " + id + " is not among the imported GridFS files");
              continue;
            }
            if (std::find(p.images.begin(), p.images.end(), stored->second) == p.images.end()) p.images.push_back(stored->second);
          }
        } else {
          p.notes.push_back("image ids are not ObjectIds; kept under legacy");
          d.keep_in_legacy("images");
        }
      }
      // The legacy part is rebuilt from the source when writing; keep the source bytes and which fields are legacy.
      p.source.assign(reinterpret_cast<const char*>(bson_get_data(d.bson())), d.bson()->len);
      count_legacy(r, d);
      if (!p.descriptors.empty()) run.report.profiles_with_descriptors++;
      if (!p.images.empty()) run.report.profiles_with_images++;
      profiles.push_back(std::move(p));
      r.imported++;
    });
  }

  EmbeddingCheck check{run.options.check_sample, run.options.agree_distance, run.options.models_dir,
                       run.options.face_model};
  auto image_bytes = [&](const std::string& stored_id) -> std::optional<std::string> {
    auto old = run.stored_to_old.find(stored_id);
    if (old == run.stored_to_old.end()) return std::nullopt;
    const GridFsFile* f = gridfs.file(old->second);
    if (!f) return std::nullopt;
    AssembledFile a = gridfs.assemble(*f);
    if (!a.refused.empty()) return std::nullopt;
    return a.bytes;
  };
  EmbeddingOutcome emb = settle_profile_embeddings(profiles, image_bytes, check, [&](const std::string& line) { run.say(line); });
  run.report.embedding_decision = emb.decision;
  run.report.sample_checked = emb.sample_checked;
  run.report.sample_without_face = emb.sample_without_face;
  run.report.sample_max_distance = emb.sample_max_distance;
  run.report.profiles_reembedded = emb.profiles_reembedded;
  run.report.embeddings_imported = emb.embeddings_imported;
  run.report.embeddings_computed = emb.embeddings_computed;
  run.report.flagged = emb.flagged;
  for (auto& w : emb.warnings) run.report.warnings.push_back(w);

  // Write the profiles.
  if (!profiles.empty()) {
    const CollectionMapping* m = run.first("faceprofiles").front().second;
    for (const auto& p : profiles) {
      MappedDocument d(reinterpret_cast<const uint8_t*>(p.source.data()), p.source.size(), *m);
      // The same decisions as when reading: unusable descriptors/images go to legacy.
      for (const auto& n : p.notes) {
        if (n.rfind("descriptors not usable", 0) == 0) d.keep_in_legacy("descriptors");
        if (n.rfind("image ids are not", 0) == 0) d.keep_in_legacy("images");
      }
      if (!run.writer.active()) continue;
      const int64_t now = now_millis();
      bson_t* out = bson_new();
      d.append_id(out);
      BSON_APPEND_UTF8(out, "name", p.name.c_str());
      if (p.external_id) BSON_APPEND_UTF8(out, "externalId", p.external_id->c_str());
      else BSON_APPEND_NULL(out, "externalId");
      bson_t meta;
      BSON_APPEND_DOCUMENT_BEGIN(out, "metadata", &meta);
      bson_append_document_end(out, &meta);
      BSON_APPEND_NULL(out, "consent");
      bson_t arr;
      BSON_APPEND_ARRAY_BEGIN(out, "embeddings", &arr);
      for (size_t i = 0; i < p.embeddings.size(); ++i) {
        const auto& e = p.embeddings[i];
        bson_t* eb = bson_new();
        bson_oid_t oid;
        bson_oid_init(&oid, nullptr);
        BSON_APPEND_OID(eb, "_id", &oid);
        append_embedding_vector(eb, "vector", e.unit);
        BSON_APPEND_UTF8(eb, "modelVersion", e.model.c_str());
        if (e.source_file) append_oid_or_text(eb, "sourceFileId", *e.source_file);
        Document q = Document::from_json(e.quality, "embedding quality");
        BSON_APPEND_DOCUMENT(eb, "quality", q.get());
        std::string key = std::to_string(i);
        BSON_APPEND_DOCUMENT(&arr, key.c_str(), eb);
        bson_destroy(eb);
      }
      bson_append_array_end(out, &arr);
      BSON_APPEND_ARRAY_BEGIN(out, "facialImageIds", &arr);
      for (size_t i = 0; i < p.images.size(); ++i) append_oid_or_text(&arr, std::to_string(i).c_str(), p.images[i]);
      bson_append_array_end(out, &arr);
      BSON_APPEND_DATE_TIME(out, "createdAt", p.created.value_or(now));
      BSON_APPEND_DATE_TIME(out, "updatedAt", p.updated.value_or(now));
      if (!p.notes.empty()) {
        BSON_APPEND_ARRAY_BEGIN(out, "importNotes", &arr);
        for (size_t i = 0; i < p.notes.size(); ++i) BSON_APPEND_UTF8(&arr, std::to_string(i).c_str(), p.notes[i].c_str());
        bson_append_array_end(out, &arr);
      }
      d.append_legacy(out);
      run.writer.tx().insert("faceprofiles", Document(out));
      run.writer.done_one();
    }
    run.writer.commit();
  }
  for (const auto& p : profiles) run.profile_names[p.id] = p.name;
}

}  // namespace facecrowd
