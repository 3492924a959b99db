#include "app/privacy/erasure_ledger.h"

#include <system_error>

#include "core/error.h"
#include "core/files.h"

namespace facecrowd {

std::string to_string(AttendancePolicy policy) {
  return policy == AttendancePolicy::kRemove ? "remove" : "anonymise";
}

AttendancePolicy parse_attendance_policy(const std::string& text) {
  if (text == "remove") return AttendancePolicy::kRemove;
  if (text == "anonymise" || text == "anonymize") return AttendancePolicy::kAnonymise;
  throw Error(ExitCode::kUsage, "attendance policy '" + text + "' is not one of: remove, anonymise");
}

nlohmann::json ErasureRecord::to_json() const {
  nlohmann::json j = {{"person_id", person_id},
                      {"erased_at", format_iso8601(erased_at)},
                      {"db", db},
                      {"attendance_policy", to_string(attendance_policy)},
                      {"requested_by", requested_by},
                      {"file_ids", file_ids}};
  if (reason) j["reason"] = *reason;
  return j;
}

ErasureRecord ErasureRecord::from_json(const nlohmann::json& j, const std::string& what) {
  auto text = [&](const char* key, bool required) -> std::optional<std::string> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) throw Error(ExitCode::kBadInput, what + ": field '" + key + "' is missing");
      return std::nullopt;
    }
    if (!it->is_string()) throw Error(ExitCode::kBadInput, what + ": field '" + key + "' is not a string");
    return it->get<std::string>();
  };
  if (!j.is_object()) throw Error(ExitCode::kBadInput, what + " is not a JSON object");
  ErasureRecord r;
  r.person_id = *text("person_id", true);
  if (r.person_id.empty()) throw Error(ExitCode::kBadInput, what + ": field 'person_id' is empty");
  auto at = text("erased_at", true);
  auto parsed = parse_iso8601(*at);
  if (!parsed) throw Error(ExitCode::kBadInput, what + ": erased_at '" + *at + "' is not an ISO 8601 time");
  r.erased_at = *parsed;
  r.db = text("db", false).value_or("");
  try {
    r.attendance_policy = parse_attendance_policy(text("attendance_policy", false).value_or("remove"));
  } catch (const Error& e) {
    throw Error(ExitCode::kBadInput, what + ": " + e.what());
  }
  r.requested_by = text("requested_by", false).value_or("");
  r.reason = text("reason", false);
  if (auto it = j.find("file_ids"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw Error(ExitCode::kBadInput, what + ": field 'file_ids' is not an array");
    for (const auto& id : *it) {
      if (!id.is_string()) throw Error(ExitCode::kBadInput, what + ": 'file_ids' holds a non-string");
      r.file_ids.push_back(id.get<std::string>());
    }
  }
  return r;
}

ErasureLedger::ErasureLedger(const fs::path& data_root) : path_(data_root / kFileName) {}

std::vector<ErasureRecord> ErasureLedger::read() const {
  std::vector<ErasureRecord> out;
  std::error_code ec;
  auto st = fs::status(path_, ec);
  if (!fs::exists(st)) return out;
  if (!fs::is_regular_file(st))
    throw Error(ExitCode::kBadInput, "erasure ledger '" + path_.string() + "' is not a regular file (" +
                                         (fs::is_directory(st) ? "a directory" : "a special file") +
                                         "): move it aside and put back an intact copy (`facecrowd person erasures` "
                                         "says where one is)");
  std::string text = read_file(path_);
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    ++line_no;
    if (end == std::string::npos) break;  // torn last line: its erasure never committed (see header)
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::string what = "erasure ledger '" + path_.string() + "' line " + std::to_string(line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(ExitCode::kBadInput, what + " is not JSON (" + e.what() + "); fix or remove that line by hand");
    }
    out.push_back(ErasureRecord::from_json(j, what));
  }
  return out;
}

std::optional<ErasureRecord> ErasureLedger::find(const std::string& person_id) const {
  std::optional<ErasureRecord> found;
  for (auto& r : read())
    if (r.person_id == person_id) found = std::move(r);
  return found;
}

void ErasureLedger::append(const ErasureRecord& record) const {
  std::error_code ec;
  bool existed = fs::exists(path_, ec);
  if (existed) {
    // Cut off a torn last line (a crash mid-append) so the new line starts on a line of its own.
    std::string text = read_file(path_);
    if (!text.empty() && text.back() != '\n') {
      size_t keep = text.rfind('\n');
      fs::resize_file(path_, keep == std::string::npos ? 0 : keep + 1, ec);
      if (ec) throw Error(ExitCode::kIo, "cannot repair the torn last line of '" + path_.string() + "': " + ec.message());
      fsync_path(path_);
    }
  }
  append_line_durably(path_, record.to_json().dump());
  if (!existed) fsync_path(path_.parent_path());  // the new file's directory entry must survive a crash too
}

}  // namespace facecrowd
