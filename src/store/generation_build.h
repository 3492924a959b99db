// A new generation of a database being built beside the live one (a restore's, an import's), until it is
// installed or given up: its file, its BUILDING claim (generation_claim.h), its open database.
//
// begin() picks the next generation file and claims it BEFORE the file exists, so no open takes it for a
// leftover, and a build killed while building a database's first generation leaves a claim that no one holds
// naming it (DataDir::killed_first_build) instead of what looks like damage. Error(kBusy) when another
// builder created that file between the look and the claim (`builder` names who in the message).
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

  void begin(DataDir& data, const std::string& db_name, const std::string& builder);
  GenerationBuild() = default;
  GenerationBuild(const GenerationBuild&) = delete;
  GenerationBuild& operator=(const GenerationBuild&) = delete;
  ~GenerationBuild();
};

}  // namespace facecrowd
