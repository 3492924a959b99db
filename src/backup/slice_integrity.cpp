#include "backup/slice_integrity.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "backup/oplog_slice.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"
#include "store/data_dir.h"
#include "store/oplog_entry.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

constexpr const char* kRecordFormat = "facecrowd-oplog-slice";

// What the slice itself shows: entries in order inside (from, to], the last one exactly `to`.
void check_contents(const SliceInfo& s, SliceCheck& c) {
  int64_t n = 0;
  OplogTimestamp last = s.from;
  try {
    read_oplog_slice(s.path, [&](std::string_view bytes) {
      ++n;
      std::string what = "entry #" + std::to_string(n);
      OplogEntry e = decode_oplog_entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), what);
      if (e.ts <= last || e.ts > s.to)
        throw Error(ExitCode::kBadInput, what + " has ts " + e.ts.to_string() + ", out of order or outside the range " +
                                             s.from.to_string() + " .. " + s.to.to_string());
      last = e.ts;
    });
  } catch (const Error& e) {
    c.problem = e.what();
    return;
  }
  c.entries = n;
  if (n == 0)
    c.problem = "holds no entries although its name says it covers " + s.from.to_string() + " .. " + s.to.to_string();
  else if (last != s.to)
    c.problem = "its last entry is " + last.to_string() + " but its name says it reaches " + s.to.to_string() +
                " (entries are missing)";
}

}  // namespace

fs::path slice_record_path(const fs::path& slice) {
  fs::path p = slice;
  p += ".json";
  return p;
}

void write_slice_record(const fs::path& record_path, const SliceRecord& r) {
  nlohmann::json j = {{"format", kRecordFormat}, {"from", r.from.to_string()}, {"to", r.to.to_string()},
                      {"entries", r.entries},   {"bytes", r.bytes},            {"sha256", r.sha256},
                      {"previous_sha256", r.previous_sha256 ? nlohmann::json(*r.previous_sha256) : nlohmann::json()}};
  if (!r.db.empty()) j["db"] = r.db;
  write_file_durably(record_path, j.dump() + "\n");
}

std::optional<SliceRecord> read_slice_record(const fs::path& record_path) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(record_path, ec))) return std::nullopt;
  auto bad = [&](const std::string& why) {
    return Error(ExitCode::kBadInput, "oplog slice record '" + record_path.string() + "': " + why);
  };
  if (!fs::is_regular_file(record_path, ec)) throw bad("not a regular file");
  auto j = nlohmann::json::parse(read_file(record_path), nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kRecordFormat) throw bad("not a slice record");
  SliceRecord r;
  try {
    auto from = parse_oplog_timestamp(j.at("from").get<std::string>());
    auto to = parse_oplog_timestamp(j.at("to").get<std::string>());
    if (!from || !to) throw bad("malformed from/to");
    r.from = *from;
    r.to = *to;
    r.entries = j.at("entries").get<int64_t>();
    r.bytes = j.at("bytes").get<uint64_t>();
    r.sha256 = j.at("sha256").get<std::string>();
    if (j.contains("previous_sha256") && j["previous_sha256"].is_string()) r.previous_sha256 = j["previous_sha256"].get<std::string>();
    if (j.contains("db")) r.db = j.at("db").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("malformed: ") + e.what());
  }
  if (r.sha256.size() != 64 || r.entries < 1) throw bad("malformed sha256 or entry count");
  if (j.contains("db")) {
    try {
      validate_database_name(r.db);
    } catch (const Error&) {
      throw bad("'db' is not a database name");
    }
  }
  return r;
}

std::string SliceCheck::detail() const {
  std::string name = path.filename().string();
  if (!ok) return name + ": BROKEN: " + problem;
  return name + ": ok, " + counted(entries, "entry", "entries") +
         (legacy ? " (legacy slice without a record: checksum and entry count cannot be proven, order and end were)" : "");
}

std::vector<SliceCheck> check_slices(std::vector<SliceInfo> slices) {
  std::sort(slices.begin(), slices.end(), [](const SliceInfo& a, const SliceInfo& b) {
    return a.from != b.from ? a.from < b.from : a.to < b.to;
  });
  struct Loaded {
    std::optional<SliceRecord> record;
    std::string record_error;
    std::optional<std::string> sha256;  // of the file as it is now
  };
  std::vector<Loaded> loaded(slices.size());
  std::optional<OplogTimestamp> first_recorded;  // the lowest `from` of a slice with a record (file present)
  for (size_t i = 0; i < slices.size(); ++i) {
    auto record_path = slice_record_path(slices[i].path);
    std::error_code ec;
    bool present = fs::exists(fs::symlink_status(record_path, ec));
    try {
      loaded[i].record = read_slice_record(record_path);
    } catch (const Error& e) {
      loaded[i].record_error = e.what();
    }
    if (present && (!first_recorded || slices[i].from < *first_recorded)) first_recorded = slices[i].from;
    loaded[i].sha256 = sha256_of_file(slices[i].path);
  }
  // The current sha256 of the slice ending at each position (what a successor's link must name).
  std::map<uint64_t, std::string> sha_ending_at;
  for (size_t i = 0; i < slices.size(); ++i)
    if (loaded[i].sha256) sha_ending_at[slices[i].to.packed()] = *loaded[i].sha256;

  std::vector<SliceCheck> out;
  for (size_t i = 0; i < slices.size(); ++i) {
    const SliceInfo& s = slices[i];
    const Loaded& l = loaded[i];
    SliceCheck c{s.path, s.from, s.to};
    check_contents(s, c);
    if (c.problem.empty()) {
      if (!l.record_error.empty()) {
        c.problem = l.record_error;
      } else if (!l.record) {
        if (first_recorded && s.to > *first_recorded)
          c.problem = "its record " + slice_record_path(s.path).filename().string() +
                      " is missing (slices shipped by this version always have one): it cannot be proven complete";
        else
          c.legacy = true;
      } else {
        const SliceRecord& r = *l.record;
        if (r.from != s.from || r.to != s.to)
          c.problem = "its record names the range " + r.from.to_string() + " .. " + r.to.to_string();
        else if (c.entries != r.entries)
          c.problem = "holds " + std::to_string(c.entries) + " entries but was shipped with " + std::to_string(r.entries);
        else if (!l.sha256)
          c.problem = "cannot be read";
        else if (s.bytes != r.bytes || *l.sha256 != r.sha256)
          c.problem = "has " + std::to_string(s.bytes) + " bytes and sha256 " + l.sha256->substr(0, 16) +
                      "…, but was shipped with " + std::to_string(r.bytes) + " bytes and sha256 " +
                      r.sha256.substr(0, 16) + "… (changed or damaged since)";
        else if (r.previous_sha256) {
          auto prev = sha_ending_at.find(s.from.packed());
          if (prev != sha_ending_at.end() && prev->second != *r.previous_sha256)
            c.problem = "the slice before it (ending at " + s.from.to_string() +
                        ") is not the one it was shipped after: that slice was changed";
        }
      }
    }
    c.ok = c.problem.empty();
    out.push_back(std::move(c));
  }
  return out;
}

void require_intact_slices(const std::vector<SliceInfo>& needed, const std::vector<SliceInfo>& all) {
  if (needed.empty()) return;
  std::map<fs::path, bool> wanted;
  for (const auto& s : needed) wanted[s.path] = true;
  std::string broken;
  OplogTimestamp first_broken;
  for (const auto& c : check_slices(all)) {
    if (c.ok || !wanted.count(c.path)) continue;
    if (broken.empty()) first_broken = c.from;
    broken += (broken.empty() ? "" : "; ") + c.detail();
  }
  if (broken.empty()) return;
  throw Error(ExitCode::kBadInput,
              "point-in-time recovery would silently drop changes: " + broken +
                  ". Nothing was changed. Put back an intact copy of the slice (from another backup target), or "
                  "recover to a point up to " + first_broken.to_string() + " (the last position before the broken slice)");
}

std::optional<std::string> shipped_database(const BackupCatalog& catalog) {
  auto slices = catalog.slices();
  std::sort(slices.begin(), slices.end(), [](const SliceInfo& a, const SliceInfo& b) { return a.to > b.to; });
  for (const auto& s : slices) {
    std::optional<SliceRecord> record;
    try {
      record = read_slice_record(slice_record_path(s.path));
    } catch (const Error&) {  // a damaged record names no database; check_slices reports it
      continue;
    }
    if (record && !record->db.empty()) return record->db;
  }
  return std::nullopt;
}

std::vector<SliceInfo> slices_of_database(const BackupCatalog& catalog, const std::string& db) {
  if (shipped_database(catalog).value_or(db) != db) return {};
  return catalog.slices();
}

}  // namespace facecrowd
