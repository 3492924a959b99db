#include "store/store_check.h"

#include <bson/bson.h>

#include <cstring>
#include <set>

#include "core/error.h"
#include "store/file_hash_check.h"
#include "store/file_store.h"
#include "store/sqlite_util.h"

namespace facecrowd {
namespace {

void add_problem(ScrubCheck& c, size_t max_listed, std::string problem) {
  c.ok = false;
  ++c.problem_count;
  if (c.problems.size() < max_listed) c.problems.push_back(std::move(problem));
}

void stage(const ScrubOptions& o, const std::string& s) {
  if (o.progress) o.progress(s);
}

}  // namespace

nlohmann::json ScrubCheck::to_json() const {
  return {{"check", name}, {"ok", ok}, {"detail", detail}, {"problems", problems}, {"problemCount", problem_count}};
}

bool ScrubReport::ok() const {
  for (const auto& c : checks)
    if (!c.ok) return false;
  return !checks.empty();
}

nlohmann::json ScrubReport::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : checks) list.push_back(c.to_json());
  return {{"db", db}, {"ok", ok()}, {"checks", list}};
}

std::optional<std::string> document_defect(const uint8_t* doc, size_t size) {
  if (size < 5) return "only " + std::to_string(size) + " bytes: not a BSON document";
  int32_t len;
  std::memcpy(&len, doc, 4);
  len = BSON_UINT32_FROM_LE(len);
  if (len < 5 || size_t(len) != size)
    return "its length prefix says " + std::to_string(len) + " bytes but it has " + std::to_string(size);
  bson_t view;
  size_t bad_offset = 0;
  if (!bson_init_static(&view, doc, size) || !bson_validate(&view, BSON_VALIDATE_UTF8_ALLOW_NULL, &bad_offset))
    return "does not decode as BSON (bad field at byte " + std::to_string(bad_offset) + ")";
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &view, "_id")) return "has no _id";
  return std::nullopt;
}

ScrubReport scrub_database(Database& db, const ScrubOptions& options) {
  ScrubReport report;
  report.db = db.name();
  const size_t max = options.max_listed;
  auto txn = db.read();  // one snapshot for every check
  sqlite3* h = db.handle();

  {
    stage(options, "sqlite integrity_check of " + db.file().filename().string());
    ScrubCheck c{"sqlite integrity"};
    try {
      Statement st(h, "PRAGMA integrity_check");
      while (st.step("running PRAGMA integrity_check")) {
        std::string line = st.column_text(0);
        if (line != "ok") add_problem(c, max, line);
      }
    } catch (const Error& e) {
      add_problem(c, max, e.what());
    }
    c.detail = c.ok ? "PRAGMA integrity_check: ok (" + db.file().filename().string() + ")"
                    : std::to_string(c.problem_count) + " problems reported by PRAGMA integrity_check";
    report.checks.push_back(std::move(c));
  }

  FileHashCheck files;
  std::set<std::string> file_ids;
  ScrubCheck refs{"file references"};
  int64_t references = 0;
  try {  // the ids first: records come before fs.files in schema order
    Statement st(h, "SELECT _id FROM " + quote_identifier("fs.files"));
    while (st.step("reading fs.files ids")) file_ids.insert(st.column_text(0));
  } catch (const Error& e) {
    add_problem(refs, max, e.what());
  }
  {
    ScrubCheck c{"documents"};
    int64_t documents = 0;
    for (const auto& spec : collection_specs()) {
      stage(options, "decoding " + spec.name);
      bool file_refs = false;
      for (const auto& f : file_reference_fields()) file_refs |= f.collection == spec.name;
      try {
        Statement st(h, "SELECT _id, doc FROM " + quote_identifier(spec.name));
        while (st.step("reading " + spec.name)) {
          ++documents;
          auto blob = st.column_blob(1);
          auto bytes = reinterpret_cast<const uint8_t*>(blob.data());
          if (auto defect = document_defect(bytes, blob.size())) {
            add_problem(c, max, spec.name + " document '" + st.column_text(0) + "' " + *defect);
            continue;
          }
          if (spec.name == "fs.files") {
            files.add_file(bytes, blob.size());
          } else if (spec.name == "fs.chunks") {
            files.add_chunk(bytes, blob.size());
          }
          if (file_refs) {
            bson_t view;
            bson_init_static(&view, bytes, blob.size());
            std::string id = st.column_text(0);
            for_each_file_reference(spec.name, &view, [&](const std::string& file_id) {
              ++references;
              if (!file_ids.count(file_id))
                add_problem(refs, max, spec.name + " document '" + id + "' points to file '" + file_id +
                                           "', which fs.files does not hold");
            });
          }
        }
      } catch (const Error& e) {
        add_problem(c, max, "reading " + spec.name + ": " + e.what());
      }
    }
    c.detail = c.ok ? std::to_string(documents) + " documents decode as BSON and have an _id"
                    : std::to_string(c.problem_count) + " of " + std::to_string(documents) + " documents are damaged";
    report.checks.push_back(std::move(c));
  }
  {
    stage(options, "checking file hashes");
    ScrubCheck c{"file hashes"};
    for (auto& p : files.finish(&txn)) add_problem(c, max, std::move(p));
    for (const auto& p : files.orphan_chunks()) add_problem(refs, max, p);
    c.detail = c.ok ? std::to_string(files.files()) + " files, " + std::to_string(files.bytes_hashed()) +
                          " bytes: every chunk present and every sha256 matches fs.files"
                    : std::to_string(c.problem_count) + " of " + std::to_string(files.files()) + " files are damaged";
    report.checks.push_back(std::move(c));
  }
  refs.detail = refs.ok ? std::to_string(references) + " file references, all to files that exist; no chunk without its file"
                        : std::to_string(refs.problem_count) + " dangling: file references to missing files, or chunks "
                              "of no file (" + std::to_string(references) + " references checked)";
  report.checks.push_back(std::move(refs));
  {
    stage(options, "reading the oplog");
    ScrubCheck c{"oplog"};
    OplogTimestamp position = txn.position(), last;
    int64_t entries = 0;
    try {
      Statement st(h, "SELECT ts, entry FROM oplog ORDER BY ts");
      while (st.step("reading the oplog")) {
        ++entries;
        auto ts = OplogTimestamp::from_packed(uint64_t(st.column_int(0)));
        auto blob = st.column_blob(1);
        std::string what = "oplog entry " + ts.to_string();
        try {
          OplogEntry e = decode_oplog_entry(reinterpret_cast<const uint8_t*>(blob.data()), blob.size(), what);
          if (e.ts != ts) add_problem(c, max, what + " holds ts " + e.ts.to_string());
        } catch (const Error& e) {
          add_problem(c, max, e.what());
        }
        if (ts <= last) add_problem(c, max, what + " is not after " + last.to_string());
        if (ts > position) add_problem(c, max, what + " is past the database's position " + position.to_string());
        last = ts;
      }
    } catch (const Error& e) {
      add_problem(c, max, e.what());
    }
    c.detail = c.ok ? std::to_string(entries) + " live oplog entries decode, in order, up to the position " +
                          position.to_string()
                    : std::to_string(c.problem_count) + " problems in " + std::to_string(entries) + " oplog entries";
    report.checks.push_back(std::move(c));
  }
  return report;
}

}  // namespace facecrowd
