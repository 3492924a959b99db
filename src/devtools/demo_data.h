// `facecrowd demo-data`: a realistic synthetic deployment for tests and benchmarks.
//
//   users          accounts (admin/operator/viewer), one fixed argon2id hash (password "demo-password")
//   faceprofiles   people with 1-2 embeddings (128 float32, unit length) and small JPEG face images
//   attendances    spread over the 18 months before `now`, sessions like "class-7B-2026-03-02", each
//                  pointing to its session's group photo
//   crowdcounts    per location, hourly-ish over the same 18 months, each with a crowd image and a
//                  density map
//   auditlogs      logins, enrolments, attendance marks, crowd analyses, backups… over 18 months
//   fs.files/...   JPEGs (libjpeg-turbo; 20-100 KB photos, small density maps) totalling about
//                  `image_mb`, split between facial images, group photos and crowd images; every file is
//                  pointed to by some document
//
// Deterministic: the same options (seed, sizes and `now`) give the same documents, ids included. Every
// document goes through Database::WriteTransaction (with its oplog entry), in transactions of
// `batch_documents` documents. BSON is built directly (libbson), never via JSON text, so millions of
// documents take minutes, not hours. A database that already holds documents is refused (Error
// kConflict) unless `append` is set; appended data mixes the existing document count into the seed, so
// ids and usernames do not collide.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "app/faces/gallery_models.h"
#include "core/utc_time.h"
#include "store/database.h"

namespace facecrowd {

struct DemoDataOptions {
  int64_t users = 25;
  int64_t profiles = 200;
  int64_t attendances = 20'000;
  int64_t crowdcounts = 5'000;
  int64_t auditlogs = 20'000;
  int64_t image_mb = 20;
  uint64_t seed = 1;
  // modelVersion stamped on the synthetic embeddings. The default names no prepared model, so enroll and
  // recognize never load them; the prepared models' version (`facecrowd models check --json`) makes a
  // gallery of that size to benchmark search with.
  std::string embedding_model = kOldSystemEmbeddingModel;
  UnixMillis now = 0;            // 0: the current time (then ids still depend on it)
  bool append = false;
  int64_t batch_documents = 20'000;
  std::function<void(const std::string& stage, int64_t done, int64_t total)> progress;  // may be empty
};

// Error(kUsage) naming the flag for a negative size, zero profiles with attendances, or absurd sizes.
void validate_demo_data_options(const DemoDataOptions& options);

struct DemoDataReport {
  int64_t users = 0, profiles = 0, attendances = 0, crowdcounts = 0, auditlogs = 0;
  int64_t files = 0, file_bytes = 0, chunks = 0;
  int64_t documents = 0;  // every document inserted, fs.files and fs.chunks included
  double seconds = 0;
  // {"users", …, "files", "fileBytes", "documents", "seconds", "documentsPerSecond", "imageMBPerSecond"}
  nlohmann::json to_json() const;
};

DemoDataReport generate_demo_data(Database& db, const DemoDataOptions& options);

// The argon2id hash every demo user gets (crypto_pwhash_str of "demo-password").
extern const char* const kDemoPasswordHash;

}  // namespace facecrowd
