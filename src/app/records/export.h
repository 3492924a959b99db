// `facecrowd export`: one collection's documents, optionally filtered, as MongoDB relaxed Extended JSON,
// one compact document a line in stored field order — what `mongoexport --collection C --query Q --out F`
// wrote for the operators.
//
// The output is written to a temporary name beside `out` and renamed into place once complete and
// fsynced, so a failure (bad query, disk full, read-only directory) never leaves a partial file. All
// documents come from one read snapshot.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "store/data_dir.h"

namespace facecrowd {

struct ExportOptions {
  std::string db{"face-recognition"};
  std::string collection;
  std::string query_json;  // empty: every document; see document_filter.h for the language
  std::filesystem::path out;
  bool overwrite = false;  // replace an existing regular file (--force); never a device node or FIFO
  std::function<void(int64_t documents)> progress;  // called now and then; may be empty
};

struct ExportReport {
  int64_t documents = 0;
  int64_t bytes = 0;
  bool used_index = false;  // some conditions ran on indexed columns
};

// Error(kNotFound) for an unknown database or collection; Error(kBadInput) naming the query when it is
// malformed or uses an unknown operator; Error(kIo) naming the path when the output cannot be written.
ExportReport export_collection(const DataDir& dir, const ExportOptions& options);
// `facecrowd export --json`: {collection, out, documents, bytes, usedIndex}.
nlohmann::json export_report_json(const ExportOptions& options, const ExportReport& report);

}  // namespace facecrowd
