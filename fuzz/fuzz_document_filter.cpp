// The export query parser (`--query`), and an accepted filter applied to a document and turned into an
// index query for every collection.
#include "app/records/document_filter.h"
#include "core/error.h"
#include "store/document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facecrowd;
  static const Document doc = Document::from_json(nlohmann::json::parse(
      R"({"_id": "a1", "personId": "p1", "session": "s", "confidence": 0.9, "archived": false,
          "timestamp": {"$date": 1704240000000}, "box": [1, 2, 3, 4], "metadata": {"kind": "x"}})"));
  try {
    auto filter = DocumentFilter::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    (void)filter.matches(doc.get());
    for (const auto& spec : collection_specs()) (void)filter.index_query(spec);
  } catch (const Error&) {
  }
  return 0;
}
