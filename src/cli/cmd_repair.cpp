// `facecrowd repair`: make an intact generation live again after CURRENT was lost or garbled (store/repair.h).
#include <iostream>

#include "cli/command.h"
#include "store/repair.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    uint64_t generation = 0;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "repair",
      "Make an intact generation file live again when the database's CURRENT pointer is missing or damaged.\n"
      "Commands refuse a damaged database with exit 9 and list its generation files (gen-N.sqlite, with sizes);\n"
      "the newest intact one holds the latest changes. The chosen file must pass SQLite's quick_check and carry\n"
      "facecrowd's schema, else nothing changes. Every other generation file and the old CURRENT are moved to\n"
      "<data>/damaged/<db>-<time>/ (never deleted). When no generation is intact, restore a backup instead:\n"
      "`facecrowd restore latest --drop`.\n"
      "Example:\n"
      "  facecrowd repair --use-generation 3      # makes face-recognition/gen-000003.sqlite live");
  cmd->add_option("--db", opts->db, "database name")->capture_default_str();
  cmd->add_option("--use-generation", opts->generation, "the N of gen-N.sqlite to make live")->required();
  cmd->callback([opts, &globals] {
    auto r = repair_use_generation(globals.data_dir, opts->db, opts->generation);
    std::cout << "database " << opts->db << " now uses " << r.generation.filename().string() << " (quick_check ok, "
              << r.pages_checked << " pages)\n";
    if (!r.damaged_kept.empty()) std::cout << "  the other generation files and the old CURRENT were moved to " << r.damaged_kept.string() << "\n";
  });
});

}  // namespace
}  // namespace facecrowd
