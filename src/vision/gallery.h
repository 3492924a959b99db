// The enrolled faces, in memory, searchable by nearest neighbour.
// Contract: a Gallery holds (person id, embedding id, unit vector) triples, all of one dimension: the first
// add() sets it (128 for dlib, 1024 for faceres: one gallery, one model), and a vector of another size —
// added, searched or in an adopted index file — is refused (std::invalid_argument / std::runtime_error)
// rather than compared. search(q) returns the
// person whose nearest embedding is closest to q (unit-vector L2 distance, 0..2), that distance, and the
// runner-up: the closest *different* person, with margin = runner_up_distance - distance (kNoRunnerUp when
// the gallery holds one person), and the matched embedding's isolation: its distance to the nearest embedding
// of another person, and who that is, found by a second search from its vector (so a search costs two scans;
// computed at search time rather than kept per embedding, it cannot go stale on enrollment or erasure). It
// returns nullopt only when the gallery is empty.
// Search is exact (a scan of a contiguous float array) while size() < hnsw_from_size, and an HNSW index
// (hnswlib, M=16, ef_construction=200, ef=128) at or above it; the index is built when the gallery grows
// past the size, extended on add, entries are markDeleted on remove, and dropped (back to exact) when a
// removal takes the gallery below the size. The HNSW answer is approximate: for face galleries (tight
// clusters per person) it agrees with the exact one; bench/gallery_bench.cpp measures recall on random data.
// Cost (bench/gallery_bench.cpp, 2 shared cores): exact ~0.2 ms a search at 10k embeddings, ~3 ms at 100k
// (hnswlib's SSE kernel); HNSW ~0.15 ms at 10k, ~0.6 ms at 100k (recall 0.996 on random vectors), but
// building it for 100k takes ~1-2 minutes — worth it for a long-running server; one-shot commands adopt
// a saved index instead (save_index/adopt_index below).
// Memory: 4 bytes a number (512 bytes a dlib vector, 4 KiB a faceres one), twice when indexed (dense copy +
// HNSW): ~130 MB at 100k dlib embeddings.
// add() with an embedding id already present replaces that embedding (its vector and its person).
// Locking: the Gallery is thread-safe by an internal reader/writer lock: add/remove_person take it
// exclusively, search/size/people take it shared, so many recognitions can search while an enrollment adds.
// The index as a file (app/faces/gallery_index.h keeps it as a cache beside the store): save_index() writes
// hnswlib's file and returns the embedding id of each label; adopt_index() loads such a file into a gallery
// filled by add() and reconciles it with what the gallery holds now, so a one-shot command gets HNSW search
// for the cost of reading the file plus one addPoint per embedding the file lacks.
// Nothing here knows about the store (app/faces/gallery_loader.h builds a Gallery from faceprofiles).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace facecrowd::vision {

struct hnswlib_space;  // gallery.cpp: hnswlib's L2Space (kept out of this header)
struct TwoBest;        // gallery.cpp: the best person and the runner-up of one search

// margin when the gallery holds a single person: larger than any possible distance difference (max 2).
inline constexpr float kNoRunnerUp = 4.0f;

struct GalleryMatch {
  std::string person_id;
  float distance = 0;  // unit-vector L2 to the person's nearest embedding
  std::string embedding_id;  // that nearest embedding
  std::optional<std::string> runner_up_id;
  float runner_up_distance = 0;
  float margin = 0;  // runner_up_distance - distance, or kNoRunnerUp when there is no other person
  // Distance from that nearest embedding to the nearest embedding of another person in the gallery, or
  // kNoRunnerUp when there is no other person: how crowded the matched enrolled face's neighbourhood is
  // (MatchPolicy::gallery_isolation).
  float isolation = kNoRunnerUp;
  std::optional<std::string> isolation_person_id;  // that other person (none without one)
};

class Gallery {
 public:
  explicit Gallery(size_t hnsw_from_size = 5000);  // exact below, HNSW at or above (rebuilt/extended as it grows)
  ~Gallery();
  Gallery(const Gallery&) = delete;
  Gallery& operator=(const Gallery&) = delete;

  // `unit` must be L2-normalised (distances assume it).
  void add(const std::string& person_id, const std::string& embedding_id, const std::vector<float>& unit);
  size_t remove_person(const std::string& person_id);  // returns embeddings removed (hnswlib markDelete)

  size_t size() const;    // embeddings
  size_t people() const;  // distinct persons with at least one embedding
  bool uses_hnsw() const;
  std::optional<GalleryMatch> search(const std::vector<float>& unit) const;  // nullopt when empty
  size_t dimension() const;  // the vectors' size; 0 until the first add()

  // Builds the HNSW index now, whatever the size (no-op when it exists). ~1 ms an embedding on 2 cores.
  void build_index();
  // Writes the index in hnswlib's format (graph, vectors, labels) to `hnsw_path` and returns the embedding
  // id of every label in label order ("" for retired labels). Requires uses_hnsw(). Throws std::runtime_error
  // when the file cannot be written or comes out short (a full disk).
  std::vector<std::string> save_index(const std::string& hnsw_path) const;

  struct IndexReuse {
    size_t kept = 0;     // saved entries whose embedding id is here with the same vector
    size_t added = 0;    // embeddings the file lacked, added to the index
    size_t removed = 0;  // saved entries no longer here (or with another vector), markDeleted
  };
  // Replaces the index with the one saved at `hnsw_path` (labels as save_index returned them), reconciled
  // with the gallery's current contents, so searches then go through HNSW whatever the size. Nothing in the
  // file is trusted: every vector is compared with the gallery's (a differing one is retired and re-added)
  // and every graph link is bounds-checked. Returns nullopt, leaving the gallery as it was, when more than
  // `max_added` embeddings would have to be added; throws std::runtime_error, leaving it as it was, when the
  // file is unreadable, its graph is damaged, or it does not match `labels`.
  std::optional<IndexReuse> adopt_index(const std::string& hnsw_path, const std::vector<std::string>& labels,
                                        size_t max_added = SIZE_MAX);

 private:
  struct Index;  // the hnswlib index (kept out of this header)
  using Label = uint32_t;

  void build_index_locked();
  void remove_dense_locked(size_t dense);
  TwoBest two_best_locked(const float* q) const;
  TwoBest two_best_exact_locked(const float* q) const;
  TwoBest two_best_hnsw_locked(const float* q) const;
  uint32_t intern_person_locked(const std::string& person_id);

  void require_dimension_locked(size_t size, const char* what) const;

  const size_t hnsw_from_size_;
  mutable std::shared_mutex mutex_;
  size_t dim_ = 0;  // set by the first add()
  std::unique_ptr<hnswlib_space> exact_space_;  // hnswlib's squared-L2 kernel for dim_

  // Dense storage, swap-removed: vectors_[i*dim_..], person_of_[i], label_of_[i].
  std::vector<float> vectors_;
  std::vector<uint32_t> person_of_;
  std::vector<Label> label_of_;

  // Labels are stable ids (the HNSW labels): label -> dense index, person, embedding id.
  std::vector<int64_t> dense_of_label_;  // -1 when removed
  std::vector<uint32_t> person_of_label_;
  std::vector<std::string> embedding_of_label_;
  std::unordered_map<std::string, Label> label_of_embedding_;

  std::vector<std::string> person_names_;                  // person index -> id
  std::unordered_map<std::string, uint32_t> person_index_;  // id -> person index
  std::vector<uint32_t> embeddings_per_person_;
  size_t people_ = 0;

  std::unique_ptr<Index> index_;  // null while exact
};

}  // namespace facecrowd::vision
