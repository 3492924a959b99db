// `<collection>.metadata.json` of a backup archive, as mongodump writes it: the collection's options and
// indexes, so a MongoDB operator recognises it and a restore can check what it is loading. Indexes come
// from schema.h: `_id_` first, then one entry per IndexSpec whose key lists the indexed fields' document
// paths (e.g. "metadata.kind") in order, named like MongoDB does ("personId_1_timestamp_1").
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "store/schema.h"

namespace facecrowd {

// {"options": {}, "indexes": [{"v": 2, "key": {"_id": 1}, "name": "_id_"}, ...],
//  "collectionName": "<name>", "type": "collection"}; keys keep insertion order (compound index keys
// are ordered).
nlohmann::ordered_json collection_metadata_json(const CollectionSpec& spec);

}  // namespace facecrowd
