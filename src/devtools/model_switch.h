// What a gallery looks like after a change of face model, for the tests and benchmarks of `gallery reembed`:
// relabel_embeddings_as() marks every stored embedding of every profile in `db` as made by `model_version`
// (their vectors unchanged), in one write transaction through the oplog like any other change.
#pragma once

#include <string>

#include "store/database.h"

namespace facecrowd {

void relabel_embeddings_as(Database& db, const std::string& model_version);

}  // namespace facecrowd
