// A new generation of a database being built beside the live one (a restore's, an import's), until it is
// installed or given up: its file, its BUILDING claim (generation_claim.h), its open database.
//
// begin() picks the next generation file and claims it BEFORE the file exists, so no open takes it for a
// leftover, and a build killed while building a database's first generation leaves a claim that no one holds
// naming it (DataDir::killed_first_build) instead of what looks like damage. Error(kBusy) when another
// builder (a restore or an import) created that file between the look and the claim.
// Not installed when it goes out of scope (a failure, an exception): its files are deleted, then the claim is
// released (removing BUILDING), then the database folder begin() created, when it is empty again.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "store/database.h"
#include "store/data_dir.h"
#include "store/generation_claim.h"

namespace facecrowd {

struct GenerationBuild {
  std::filesystem::path file;
  std::filesystem::path created_folder;  // the database folder, when begin() created it
  std::unique_ptr<GenerationClaim> claim;
  std::unique_ptr<Database> db;
  bool installed = false;

  void begin(DataDir& data, const std::string& db_name);
  GenerationBuild() = default;
  GenerationBuild(const GenerationBuild&) = delete;
  GenerationBuild& operator=(const GenerationBuild&) = delete;
  ~GenerationBuild();
};

// What a rerun says of the generation a killed first build left (`generation`, DataDir::killed_first_build),
// removed at its swap. Restore and import build the same way and either may have left it, so both say this.
std::string killed_build_removed_note(const std::string& generation);

}  // namespace facecrowd
