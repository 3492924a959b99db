#include "devtools/model_switch.h"

#include <vector>

namespace facecrowd {

void relabel_embeddings_as(Database& db, const std::string& model_version) {
  auto tx = db.write();
  std::vector<Document> profiles;  // collected first: a profile is not replaced while find() walks them
  tx.find("faceprofiles", Query{}, [&](const Document& d) {
    profiles.push_back(d);
    return true;
  });
  for (const auto& p : profiles) {
    auto j = p.to_json();
    for (auto& e : j["embeddings"]) e["modelVersion"] = model_version;
    tx.replace("faceprofiles", Document::from_json(j));
  }
  tx.commit();
}

}  // namespace facecrowd
