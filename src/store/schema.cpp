#include "store/schema.h"

namespace facecrowd {

const std::vector<CollectionSpec>& collection_specs() {
  using T = ColumnType;
  static const std::vector<CollectionSpec> specs = {
      {"users",
       {{"username", "username", T::kText}, {"email", "email", T::kText}},
       {{{"username"}, true}, {{"email"}}}},
      {"faceprofiles",
       {{"name", "name", T::kText}, {"externalId", "externalId", T::kText}},
       {{{"name"}}, {{"externalId"}}}},
      {"attendances",
       {{"personId", "personId", T::kText},
        {"session", "session", T::kText},
        {"timestamp", "timestamp", T::kInteger},
        {"archived", "archived", T::kInteger}},
       {{{"personId", "timestamp"}}, {{"session", "personId"}}, {{"timestamp"}}}},
      {"crowdcounts",
       {{"location", "location", T::kText},
        {"timestamp", "timestamp", T::kInteger},
        {"archived", "archived", T::kInteger}},
       {{{"location", "timestamp"}}, {{"timestamp"}}}},
      {"auditlogs",
       {{"timestamp", "timestamp", T::kInteger},
        {"action", "action", T::kText},
        {"target", "target", T::kText}},
       {{{"timestamp"}}, {{"action", "timestamp"}}, {{"target"}}}},
      {"fs.files",
       {{"sha256", "sha256", T::kText},
        {"kind", "metadata.kind", T::kText},
        {"uploadDate", "uploadDate", T::kInteger}},
       {{{"sha256"}, true}, {{"kind"}}}},
      {"fs.chunks",
       {{"files_id", "files_id", T::kText}, {"n", "n", T::kInteger}},
       {{{"files_id", "n"}, true}}},
  };
  return specs;
}

const CollectionSpec* find_collection_spec(std::string_view name) {
  for (const auto& spec : collection_specs())
    if (spec.name == name) return &spec;
  return nullptr;
}

std::string collection_names_joined() {
  std::string out;
  for (const auto& spec : collection_specs()) out += (out.empty() ? "" : ", ") + spec.name;
  return out;
}

}  // namespace facecrowd
