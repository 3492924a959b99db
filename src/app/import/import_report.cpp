// ImportReport's exit code and JSON form (app/import/import_mongodump.h).
#include "app/import/import_mongodump.h"

namespace facecrowd {

int ImportReport::exit_code() const {
  for (const auto& c : collections)
    if (c.refused > 0) return 1;
  return flagged.empty() && warnings.empty() ? 0 : 1;
}

nlohmann::json ImportReport::to_json() const {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : collections)
    cols.push_back({{"source", c.source}, {"as", c.as.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.as)},
                    {"documents", c.documents}, {"imported", c.imported}, {"refused", c.refused},
                    {"legacyFields", c.legacy_fields}, {"refusals", c.refusals},
                    {"refusedExamples", c.refused_examples}, {"notes", c.notes}});
  nlohmann::json flagged_json = nlohmann::json::array();
  for (const auto& f : flagged) flagged_json.push_back({{"id", f.id}, {"name", f.name}, {"reason", f.reason}});
  nlohmann::json j = {
      {"source", source}, {"shape", shape}, {"sourceDb", source_db}, {"mapping", mapping}, {"dryRun", dry_run},
      {"collections", cols}, {"ignored", ignored},
      {"files", {{"imported", files_imported}, {"md5Checked", files_md5_checked}, {"deduplicated", files_deduplicated}}},
      {"embeddings",
       {{"decision", embedding_decision}, {"profilesWithDescriptors", profiles_with_descriptors},
        {"profilesWithImages", profiles_with_images}, {"sampleChecked", sample_checked},
        {"sampleWithoutFace", sample_without_face}, {"sampleMaxDistance", sample_max_distance},
        {"profilesReembedded", profiles_reembedded}, {"embeddingsImported", embeddings_imported},
        {"embeddingsComputed", embeddings_computed}}},
      {"flaggedProfiles", flagged_json}, {"warnings", warnings},
      {"documentsRead", documents_read}, {"documentsImported", documents_imported}, {"seconds", seconds},
      {"killedBuildRemoved", killed_build_removed},
      {"documentsPerSecond", seconds > 0 ? double(documents_read) / seconds : 0.0},
      {"exitCode", exit_code()}};
  if (!dry_run) {
    j["auditId"] = audit_id;
    j["countsAfter"] = counts_after;
  }
  return j;
}

}  // namespace facecrowd
