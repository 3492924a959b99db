// A restore's claim on the generation it is building (issue 10), so that it can build beside a live
// store that other threads and processes keep opening.
//
//   <root>/<db>/BUILDING    holds the name of the generation being built; flock()ed exclusively by the
//                           restore for as long as the generation is not installed or deleted
//
// Why: every Database::open removes the generations CURRENT does not name (leftovers of a killed
// restore, DataDir::remove_stale_generations). A restore that builds under a shared data-directory lock
// would have its work deleted by any open. A generation a live claim names is left alone; a claim whose
// holder died protects nothing (the flock goes with the process), so a crashed build's leftover is still
// removed by the next open. flock() locks belong to open file descriptions, so the claim also keeps out
// the other threads of the restoring process.
//
// Contracts:
// - acquire(): Error(kBusy) when another restore (any thread, any process) holds the claim of this
//   database; Error(kIo) when the file cannot be created. One claim per database at a time.
// - name() writes the generation's file name BEFORE the caller creates that file, and
//   generation_being_built() is asked AFTER the folder was listed: so a generation file seen in a listing
//   is always found named by its live claim (no window in which a fresh build looks stale).
// - The holder removes the BUILDING file when it releases the claim (a finished or failed restore leaves
//   the folder as it found it); a claimant that locked a file removed meanwhile notices (it is no longer
//   the file at the path) and claims the new one instead. A crashed build leaves the file, unheld.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace facecrowd {

class GenerationClaim {
 public:
  static constexpr const char* kFileName = "BUILDING";
  // Claims the database folder `db_folder` (which must exist), waiting up to `wait_ms` for a checker's
  // momentary look at the claim.
  static std::unique_ptr<GenerationClaim> acquire(const std::filesystem::path& db_folder, int wait_ms = 1000);
  ~GenerationClaim();  // removes the BUILDING file, then releases the claim
  GenerationClaim(const GenerationClaim&) = delete;
  GenerationClaim& operator=(const GenerationClaim&) = delete;
  // Records `generation_file_name` (e.g. "gen-000003.sqlite") as the one being built; Error(kIo) when it
  // cannot be written.
  void name(const std::string& generation_file_name);

 private:
  GenerationClaim(std::filesystem::path file, int fd) : file_(std::move(file)), fd_(fd) {}
  std::filesystem::path file_;
  int fd_;
};

// The generation file name that a live claim in `db_folder` names; "" when no restore is building there
// (no BUILDING file, or nobody holds it: a crashed build's claim).
std::string generation_being_built(const std::filesystem::path& db_folder);

// The generation file name that a DEAD claim in `db_folder` names: a BUILDING file that no process holds
// (its restore was killed, so the flock went with it) and that names a generation. "" when there is no
// BUILDING file, a restore holds it, or it names nothing (killed before naming: no file of it exists).
std::string generation_of_dead_claim(const std::filesystem::path& db_folder);

}  // namespace facecrowd
