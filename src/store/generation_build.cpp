#include "store/generation_build.h"

#include "core/error.h"

namespace facecrowd {

void GenerationBuild::begin(DataDir& data, const std::string& db_name) {
  std::error_code ec;
  if (!std::filesystem::exists(data.root() / db_name, ec)) created_folder = data.root() / db_name;
  file = data.next_generation_file(db_name);  // creates the database folder
  // Claimed and named before the file exists (generation_claim.h): no open may take it for a leftover.
  claim = GenerationClaim::acquire(file.parent_path());
  if (std::filesystem::exists(file, ec))  // another builder's, finished or failed between our look and our claim
    throw Error(ExitCode::kBusy, "another restore or import created '" + file.string() + "' meanwhile; try again");
  claim->name(file.filename().string());
}

GenerationBuild::~GenerationBuild() {
  db.reset();
  std::error_code ec;
  if (!installed && !file.empty())
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(std::filesystem::path(file.string() + suffix), ec);
  claim.reset();  // removes its BUILDING file
  if (!installed && !created_folder.empty()) std::filesystem::remove(created_folder, ec);  // only when empty
}

std::string killed_build_removed_note(const std::string& generation) {
  return "removed " + generation + ", the unfinished generation of an earlier import or restore that was killed before it "
         "finished (no process held it; it was never live data)";
}

}  // namespace facecrowd
