// `facecrowd import`: brings a plain mongodump of the old Node.js + MongoDB system (backup/mongodump_reader.h)
// into facecrowd, through a mapping (app/import/import_mapping.h). Contract:
//
//  - Target: a new or empty data directory only. A facecrowd database that holds any document is refused
//    with Error(kConflict) (exit 5) before anything is read; a foreign non-empty folder is DataDir's
//    Error(kNotOurs). It never merges into live data.
//  - Source database: the mapping's "db", or `source_db`; a dump without that database is Error(kBadInput)
//    naming the databases it holds and the option that picks one.
//  - The mapping is checked against the data before anything is written: a field it names (neither
//    required nor optional) that no document of the collection has is Error(kBadInput) naming the mapping,
//    the collection, the field and the fields the documents do have.
//  - Per document: mapped when its required fields are there with usable values; otherwise refused with a
//    reason, counted per collection (nothing is dropped without being counted). Source `_id`s are kept, so
//    attendances keep pointing at their profiles; an attendance whose profile was not imported is refused.
//    Unmapped fields go under `legacy` (auditlogs: details.legacy). Collections the mapping does not name
//    are refused as a whole, with their document counts; `system.*` collections are skipped and counted.
//  - users: kind "user", username, email, role (through the mapping's values), passwordHash kept when it is
//    a bcrypt hash ($2a$/$2b$/$2y$), which login verifies with crypt_r and upgrades to argon2id
//    (app/users/users.h). Other hashes stay under legacy; such users need `users reset-password`.
//  - GridFS: every fs.files document is assembled from its chunks (numbering, sizes, length and md5
//    checked) and stored through the file store (sha256 computed; content-addressed, so two old files with
//    the same bytes become one, and references are rewritten). A damaged file is refused and reported;
//    profiles pointing at it keep their other images.
//  - Embeddings: descriptors (128 numbers, raw or unit length) are compared, after scaling to unit length,
//    with facecrowd's own embedding of the profile's stored images on a sample (`check_sample` profiles
//    having both). All sampled distances below `agree_distance`: descriptors are used as they are.
//    Otherwise every profile with images is re-embedded from them (progress reported) and descriptors are
//    kept only under the model version "imported-unverified" (not searched). A profile left with no
//    usable embedding is imported with importFlags and listed in the report, never silently left out.
//  - Writes: into a new generation beside the live one (store/data_dir.h), every document through
//    Database::WriteTransaction (oplog entries) and the audit chain; after the load the counts and every
//    stored file (sha256) are re-checked; an "import" audit entry records the source, mapping (sha256),
//    options and counts; only then is the generation swapped in. Any failure leaves the target as it was.
//    The generation is built under a BUILDING claim (store/generation_claim.h), as restore builds it: an
//    import killed while building the database's FIRST generation is recognised by the rerun as a killed
//    build, not as damage (DataDir::killed_first_build); the rerun removes it at the swap and says so
//    (`killed_build_removed`). A lost CURRENT beside any other generation is still damage (exit 9).
//  - dry_run: everything above is read, decoded, mapped and checked (embeddings included); nothing is written
//    and no data directory is created.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/import/profile_embeddings.h"

namespace facecrowd {

namespace fs = std::filesystem;

struct ImportOptions {
  std::string input;                       // archive (tar or `mongodump --archive`), folder, or "-" (stdin)
  std::optional<fs::path> mapping_file;    // default: the built-in mapping
  std::string source_db;                   // the dump's database to import; default: the mapping's "db"
  bool dry_run = false;
  int check_sample = 20;                   // profiles whose descriptors are checked against their images
  double agree_distance = 0.1;             // unit-vector L2
  std::optional<fs::path> models_dir;      // face models (vision/model_files.h search order when unset)
  vision::FaceModel face_model = vision::FaceModel::kDlib;  // embeds stored images (vision/face_model.h)
  std::string actor;                       // audit actor; default: $USER
  fs::path staging_parent;                 // where the dump is staged; default: the system temp folder
  std::function<void(const std::string&)> progress;
};

struct ImportCollectionReport {
  std::string source, as;                  // as: "" for a refused (unknown) collection
  int64_t documents = 0, imported = 0, refused = 0;
  std::map<std::string, int64_t> legacy_fields;   // field -> documents that kept it under legacy
  std::map<std::string, int64_t> refusals;        // reason -> documents
  std::vector<std::string> refused_examples;      // "<_id>: reason" (first few)
  std::vector<std::string> notes;
};

struct ImportReport {
  std::string source, shape, source_db, mapping;
  bool dry_run = false;
  std::vector<ImportCollectionReport> collections;
  std::vector<std::string> ignored;        // dump members that are not collections
  int64_t files_imported = 0, files_md5_checked = 0, files_deduplicated = 0;
  // Embeddings.
  int64_t profiles_with_descriptors = 0, profiles_with_images = 0;
  int64_t sample_checked = 0, sample_without_face = 0;
  double sample_max_distance = 0;
  std::string embedding_decision;          // "descriptors-agree", "re-embedded", "unchecked", "none"
  int64_t profiles_reembedded = 0, embeddings_imported = 0, embeddings_computed = 0;
  std::vector<FlaggedProfile> flagged;
  std::vector<std::string> warnings;
  // Outcome.
  int64_t documents_read = 0, documents_imported = 0;
  double seconds = 0;
  std::string audit_id;
  std::string killed_build_removed;        // the unfinished first generation of a killed import or restore, removed at the swap
  std::map<std::string, int64_t> counts_after;  // per facecrowd collection, after the import (not dry run)

  // 0 when every document came across and no profile is flagged, else 1 (a warning the operator must read).
  int exit_code() const;
  nlohmann::json to_json() const;
};

ImportReport import_mongodump(const fs::path& data_root, const ImportOptions& options);

}  // namespace facecrowd
