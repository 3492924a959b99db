// The gallery's HNSW index kept as a cache beside the database, so the one-shot commands (enroll, recognize)
// can search a large gallery through HNSW without building it: building costs ~1 ms an embedding on 2 cores
// (about 1.5 minutes at 100k), so `facecrowd gallery index` does it, e.g. nightly from cron or after a bulk
// enrollment; using the file costs a read, a check and one addPoint per embedding enrolled since — about
// 100 exact searches' worth, so by default only photos of many faces use it (GallerySearchMode).
//
// Files, in the database's folder <data>/<db>/ (not in backups: derived data, rebuilt from the store):
//   gallery-index.ids           line 1: JSON {format, hnsw, bytes, modelVersion, labels}; then one
//                               line per label: the embedding id ("" for a retired label)
//   gallery-index-<token>.hnsw  hnswlib's file (graph + vectors), named by the .ids file
// Written: the .hnsw under a fresh name (its length checked, as hnswlib does not report a full disk, and
// fsynced), then the .ids by an atomic rename, then older .hnsw files are removed: a reader never pairs a
// table with the wrong index; one that loses a race finds no file. A failed write leaves the previous pair.
//
// Trust: the store stays the truth. Every use checks the .hnsw's size, bounds-checks its whole graph and
// reconciles it with the gallery just loaded from the store (vision::Gallery::adopt_index: an entry is kept
// only with the same embedding id AND the same vector; missing ones are added; the rest markDeleted). A
// stale, foreign or damaged cache can cost time, never change an answer beyond HNSW's approximation. (A
// sha256 of the file would cost ~0.3 s at 100k embeddings, more than the searches it serves; the vector
// comparison and the graph check cover what a damaged byte could do.)
//
// GDPR: a markDeleted entry keeps its vector in hnswlib's file, so every erasure (and every re-applied one
// that removed something) calls drop_gallery_indexes(): an erased face survives in no cache. An erasure
// running while `gallery index` builds is handled by index_gallery() through the erasure ledger.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/faces/gallery_loader.h"
#include "store/database.h"
#include "vision/gallery.h"

namespace facecrowd {

// Below this many embeddings an exact scan (~0.2 ms a face at 10k) is as fast as HNSW: no index is used.
inline constexpr size_t kIndexedSearchFromSize = 5000;
// Reading and checking the index costs about as much as ~100 exact searches at any gallery size (both scale
// with it; bench/gallery_oneshot.sh at 100k: +0.35 s against 3.5 ms a face), so by default a command
// searches through it only from this many faces.
inline constexpr size_t kIndexPaysFromSearches = 100;
// A cache missing more embeddings than this is not patched in a one-shot command (addPoint ~1 ms each):
// the command searches exactly and says the index is stale.
inline constexpr size_t kMaxPatchedOnUse = 2000;

struct GalleryIndexUse {
  bool used = false;
  std::string note;  // why the index was not used, or what reconciling it changed
  vision::Gallery::IndexReuse reuse;
};

// kAuto: through the index when the gallery has at least `indexed_from` embeddings and the command at least
// kIndexPaysFromSearches faces to search; kIndex: through the index whenever a usable one exists; kExact:
// never. Without a usable index every mode scans exactly.
enum class GallerySearchMode { kAuto, kIndex, kExact };
// "auto", "index" or "exact"; anything else is Error(kUsage) naming the accepted values.
GallerySearchMode parse_gallery_search_mode(const std::string& text);

// A gallery for a one-shot command: every embedding of `model_version` (load_gallery, inside `tx`), searched
// as `mode` says for `searches` faces.
struct SearchGallery {
  std::unique_ptr<vision::Gallery> gallery;
  GalleryLoadReport loaded;
  GalleryIndexUse index;
};
SearchGallery open_search_gallery(Database::ReadTransaction& tx, const fs::path& db_dir,
                                  const std::string& model_version, size_t searches,
                                  GallerySearchMode mode = GallerySearchMode::kAuto,
                                  size_t indexed_from = kIndexedSearchFromSize);

struct GalleryIndexWrite {
  size_t embeddings = 0;
  vision::Gallery::IndexReuse reuse;  // relative to the previous file (all "added" when there was none)
  bool reused_previous = false;
  fs::path file;  // the .hnsw
  uint64_t bytes = 0;
};
// Builds (or refreshes from the previous file) the index of `gallery` and writes it. Error(kIo) naming the
// file when it cannot be written; the previous cache then stays as it was.
GalleryIndexWrite write_gallery_index(const fs::path& db_dir, const std::string& model_version,
                                      vision::Gallery& gallery);

// `facecrowd gallery index`: loads database `db`'s gallery of `model_version` (one read snapshot, released
// before the build), leaves out every person in the erasure ledger, and writes its index. If the ledger grew
// meanwhile, every index is dropped and Error(kConflict) says to run it again. Error(kNotFound) when the
// database does not exist.
GalleryIndexWrite index_gallery(const fs::path& data_root, const std::string& db, const std::string& model_version);
// `facecrowd gallery index --json`: {db, modelVersion, embeddings, reusedPrevious, kept, added, removed, file,
// bytes, seconds}.
nlohmann::json gallery_index_report_json(const std::string& db, const std::string& model_version,
                                         const GalleryIndexWrite& write, double seconds);

// Whether database folder `db_dir` keeps an index (of any model): `gallery reembed` refreshes one that is kept.
bool gallery_index_kept(const fs::path& db_dir);

// Removes every database's gallery index files under `data_root`; returns how many files went.
size_t drop_gallery_indexes(const fs::path& data_root);

}  // namespace facecrowd
