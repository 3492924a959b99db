#include <iomanip>
#include <iostream>

#include "app/records/stats.h"
#include "cli/command.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("stats", "Per-collection document counts and sizes of a database");
  cmd->add_option("--db", opts->db, "database name")->capture_default_str();
  cmd->add_flag("--json", opts->json, "print JSON");
  cmd->callback([opts, &globals] {
    auto stats = collect_stats(DataDir::open(globals.data_dir), opts->db);
    if (opts->json) {
      std::cout << stats.dump(2) << "\n";
      return;
    }
    std::cout << "database " << opts->db << " at oplog position " << stats["position"].get<std::string>() << "\n";
    std::cout << std::left << std::setw(16) << "collection" << std::right << std::setw(12) << "documents"
              << std::setw(16) << "bytes" << "\n";
    for (const auto& c : stats["collections"])
      std::cout << std::left << std::setw(16) << c["name"].get<std::string>() << std::right << std::setw(12)
                << c["count"].get<int64_t>() << std::setw(16) << c["bytes"].get<int64_t>() << "\n";
    std::cout << "oplog: " << stats["oplog"]["entries"] << " entries (" << stats["oplog"]["first"].get<std::string>()
              << " .. " << stats["oplog"]["last"].get<std::string>() << "); file " << stats["file_bytes"]
              << " bytes\n";
  });
});

}  // namespace
}  // namespace facecrowd
