// `facecrowd export`: one collection as Extended JSON lines, like mongoexport (app/records/export.h).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/records/export.h"
#include "cli/command.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    ExportOptions export_options;
    std::string out;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "export",
      "Write one collection's documents as MongoDB relaxed Extended JSON, one document a line, like\n"
      "mongoexport. --query takes a JSON object of conditions on (dotted) fields: a plain value means\n"
      "equality; operators $eq $ne $gt $gte $lt $lte $in $exists; values may be Extended JSON\n"
      "({\"$oid\": \"...\"}, {\"$date\": \"2024-01-01T00:00:00Z\"}). Conditions on indexed fields use the index.\n"
      "The file appears only when complete (written to a temporary name, then renamed). An existing --out is\n"
      "refused (exit 5) unless --force is given; a device node, FIFO or socket is never replaced.\n\n"
      "Examples:\n"
      "  facecrowd export --collection attendances --query '{\"archived\": true}' --out archived.jsonl\n"
      "  facecrowd export --collection auditlogs --query '{\"timestamp\": {\"$gte\": {\"$date\": \"2026-01-01T00:00:00Z\"}}}' --out audit.jsonl");
  opts->export_options.db = std::string(kDefaultDatabase);
  cmd->add_option("--db", opts->export_options.db, "database")->capture_default_str();
  cmd->add_option("--collection,-c", opts->export_options.collection, "collection to export")->required();
  cmd->add_option("--query,-q", opts->export_options.query_json, "JSON filter (default: every document)");
  cmd->add_option("--out,-o", opts->out, "output file (JSON lines)")->required();
  cmd->add_flag("--force", opts->export_options.overwrite,
                "replace --out when it already exists (never a device node or FIFO: exit 5 without --force)");
  cmd->add_flag("--json", opts->json, "print the result as JSON");
  cmd->callback([opts, &globals] {
    opts->export_options.out = opts->out;
    if (show_progress(globals))
      opts->export_options.progress = [](int64_t n) {
        std::fprintf(stderr, "\rexported %lld documents", static_cast<long long>(n));
      };
    auto report = export_collection(DataDir::open(globals.data_dir), opts->export_options);
    if (show_progress(globals)) std::fputc('\n', stderr);
    if (opts->json) {
      std::cout << export_report_json(opts->export_options, report).dump(2) << "\n";
      return;
    }
    std::printf("exported %lld documents from %s to %s\n", static_cast<long long>(report.documents),
                opts->export_options.collection.c_str(), opts->out.c_str());
  });
});

}  // namespace
}  // namespace facecrowd
