#include "backup/collection_metadata.h"

namespace facecrowd {

nlohmann::ordered_json collection_metadata_json(const CollectionSpec& spec) {
  using ojson = nlohmann::ordered_json;
  ojson indexes = ojson::array();
  indexes.push_back({{"v", 2}, {"key", {{"_id", 1}}}, {"name", "_id_"}});
  for (const auto& index : spec.indexes) {
    ojson key = ojson::object();
    std::string name;
    for (const auto& column : index.columns) {
      std::string path = column;  // a column is named after its field; the path may be dotted
      for (const auto& field : spec.fields)
        if (field.column == column) path = field.path;
      key[path] = 1;
      name += (name.empty() ? "" : "_") + path + "_1";
    }
    ojson entry = {{"v", 2}, {"key", key}, {"name", name}};
    if (index.unique) entry["unique"] = true;
    indexes.push_back(std::move(entry));
  }
  return {{"options", ojson::object()}, {"indexes", indexes}, {"collectionName", spec.name}, {"type", "collection"}};
}

}  // namespace facecrowd
