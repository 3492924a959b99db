// A scrub of one database (`facecrowd check`, and verify's check of its throwaway restore): reads
// everything and reports what is damaged, never changing anything. Checks, in order:
//
//   sqlite integrity   PRAGMA integrity_check of the generation file (pages, indexes, free lists)
//   documents          every document of every collection is one whole BSON document that decodes
//                      (bson_validate, UTF-8) and has an `_id` — what a restore would refuse
//   file hashes        every fs.files entry's chunks are all there, numbered, sized, and hash to its
//                      recorded sha256 (file_hash_check.h); no chunk belongs to a missing file
//   file references    every file id a record points to (file_store.h's reference fields) exists
//   oplog              every live oplog entry decodes, entries are in ts order, none is past the
//                      database's position
//
// Each check is ok or FAILED with a count and up to `max_listed` problems named (collection, _id,
// file id, entry). Reading happens in one read transaction, so a scrub of a live database sees one
// consistent state while writers go on.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"

namespace facecrowd {

struct ScrubCheck {
  std::string name;                   // "sqlite integrity", "documents", "file hashes", …
  bool ok = true;
  std::string detail;                 // what was covered, or how many problems
  std::vector<std::string> problems;  // the first max_listed, named
  int64_t problem_count = 0;
  nlohmann::json to_json() const;
};

struct ScrubOptions {
  size_t max_listed = 20;
  std::function<void(const std::string& stage)> progress;  // may be empty
};

struct ScrubReport {
  std::string db;
  std::vector<ScrubCheck> checks;
  bool ok() const;
  nlohmann::json to_json() const;
};

// Why `doc` would be refused by a restore (not one whole BSON document, invalid UTF-8, no _id), or
// nullopt when it is sound.
std::optional<std::string> document_defect(const uint8_t* doc, size_t size);

ScrubReport scrub_database(Database& db, const ScrubOptions& options);

}  // namespace facecrowd
