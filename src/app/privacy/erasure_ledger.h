// The erasure ledger: the record of every GDPR erasure, kept OUTSIDE the restorable data (DESIGN
// invariant 5) so that no restore and no point-in-time recovery can bring an erased person back.
//
//   <data dir>/erasure-ledger.jsonl    one JSON object a line, appended, never rewritten:
//   {"person_id", "erased_at": ISO 8601, "db", "attendance_policy": "remove"|"anonymise",
//    "requested_by", "reason"?, "file_ids": [ids of the files the erasure deleted]}
//
// It lives beside the database folders, not in any generation, so a backup never holds it and a restore
// never replaces it. It holds no personal data beyond the (pseudonymous) person id: no name, no image.
//
// Contracts:
// - append() is durable (fsync of the file, and of the directory when it creates the file) and returns
//   only when the line is on disk. Erasure appends its line BEFORE the database transaction commits
//   (app/privacy/erasure.h explains why that order is the safe one).
// - A crash can leave a last line without its newline (torn): it belongs to an erasure whose transaction
//   never committed, so read() ignores it and the next append() cuts it off before writing.
// - Any other malformed line is Error(kBadInput) naming the file and line: a restore must stop rather
//   than silently skip an erasure.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/utc_time.h"

namespace facecrowd {

namespace fs = std::filesystem;

enum class AttendancePolicy { kRemove, kAnonymise };
std::string to_string(AttendancePolicy policy);  // "remove" | "anonymise"
// Accepts "remove", "anonymise" (and "anonymize"); Error(kUsage) otherwise.
AttendancePolicy parse_attendance_policy(const std::string& text);

struct ErasureRecord {
  std::string person_id;
  UnixMillis erased_at = 0;
  std::string db;
  AttendancePolicy attendance_policy = AttendancePolicy::kRemove;
  std::string requested_by;
  std::optional<std::string> reason;
  std::vector<std::string> file_ids;  // files this erasure deleted (re-deleted after a restore if unreferenced)

  nlohmann::json to_json() const;
  // Error(kBadInput) naming `what` when a field is missing or of the wrong type.
  static ErasureRecord from_json(const nlohmann::json& json, const std::string& what);
};

class ErasureLedger {
 public:
  // The ledger of the data directory at `data_root`.
  explicit ErasureLedger(const fs::path& data_root);
  static constexpr const char* kFileName = "erasure-ledger.jsonl";

  const fs::path& path() const { return path_; }
  // Every record, oldest first; empty when the file does not exist.
  std::vector<ErasureRecord> read() const;
  // The latest record for `person_id`, if any.
  std::optional<ErasureRecord> find(const std::string& person_id) const;
  void append(const ErasureRecord& record) const;

 private:
  fs::path path_;
};

}  // namespace facecrowd
