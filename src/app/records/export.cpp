#include "app/records/export.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "app/records/document_filter.h"
#include "core/display_text.h"
#include "core/error.h"
#include "core/files.h"
#include "core/output_target.h"
#include "store/database.h"

namespace facecrowd {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

// Removes the temporary output unless released: no half file survives any failure.
class TempOutput {
 public:
  explicit TempOutput(fs::path path) : path_(std::move(path)) {}
  ~TempOutput() {
    if (!released_) {
      std::error_code ec;
      fs::remove(path_, ec);
    }
  }
  void release() { released_ = true; }

 private:
  fs::path path_;
  bool released_ = false;
};

ExportReport write_export(Database& db, const CollectionSpec& spec, const DocumentFilter& filter,
                          const ExportOptions& options) {
  const fs::path& out = options.out;
  fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  fs::path temp = parent / ("." + out.filename().string() + ".tmp-" + std::to_string(::getpid()));
  TempOutput cleanup(temp);
  OutputFile file(temp);

  ExportReport report;
  Query query = filter.index_query(spec);
  report.used_index = !query.where.empty();
  std::string buffer;
  buffer.reserve(kFlushBytes + 4096);
  auto tx = db.read();
  tx.find(spec.name, query, [&](const Document& doc) {
    if (!filter.matches(doc.get())) return true;
    // Re-printed through ordered_json: compact like mongoexport, field order kept, and doubles in their
    // shortest round-trip form (libbson prints 0.5789 as 0.57889999999999997016).
    buffer += nlohmann::ordered_json::parse(doc.to_json_text()).dump();
    buffer += '\n';
    ++report.documents;
    if (buffer.size() >= kFlushBytes) {
      file.write(buffer.data(), buffer.size());
      buffer.clear();
      if (options.progress) options.progress(report.documents);
    }
    return true;
  });
  file.write(buffer.data(), buffer.size());
  file.sync_and_close();
  report.bytes = int64_t(file.bytes_written());
  rename_durably(temp, out);
  cleanup.release();
  return report;
}

}  // namespace

ExportReport export_collection(const DataDir& dir, const ExportOptions& options) {
  // Validate every input before touching the output path.
  const auto& spec = require_collection(options.collection);
  DocumentFilter filter = options.query_json.empty()
                              ? DocumentFilter::match_all()
                              : DocumentFilter::parse(options.query_json, "--query '" + shortened(options.query_json) + "'");
  if (options.out.empty()) throw Error(ExitCode::kUsage, "export needs an output file (--out FILE)");
  if (fs::is_directory(options.out))
    throw Error(ExitCode::kUsage, "--out '" + options.out.string() + "' is a directory; name a file");
  require_output_target(options.out, "--out", {}, options.overwrite, "Pass --force to replace it, or name a new file");
  auto db = Database::open(dir, options.db, {.create_if_missing = false});
  try {
    return write_export(*db, spec, filter, options);
  } catch (const Error& e) {
    if (e.code() != ExitCode::kIo) throw;
    throw Error(ExitCode::kIo, "cannot export " + options.collection + " to '" + options.out.string() + "' (nothing written): " + e.what());
  }
}

nlohmann::json export_report_json(const ExportOptions& options, const ExportReport& report) {
  return {{"collection", options.collection}, {"out", options.out.string()}, {"documents", report.documents},
          {"bytes", report.bytes}, {"usedIndex", report.used_index}};
}

}  // namespace facecrowd
