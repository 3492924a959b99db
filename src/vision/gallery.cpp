#include "vision/gallery.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <mutex>
#include <stdexcept>

namespace facecrowd::vision {

namespace {
constexpr size_t kM = 16;
constexpr size_t kEfConstruction = 200;
constexpr size_t kEfSearch = 128;
// Neighbours asked of HNSW per search; if they all belong to one person, ask again with more (up to the
// cap) so the runner-up is a real other person rather than "none".
constexpr size_t kFirstK = 32;
constexpr size_t kMaxK = 1024;


}  // namespace

// Best person and the closest different person, fed (person, squared distance) pairs in any order.
struct TwoBest {
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  uint32_t best = kNone, second = kNone;
  uint32_t best_label = 0;
  float best_d = std::numeric_limits<float>::infinity(), second_d = std::numeric_limits<float>::infinity();

  void offer(uint32_t person, float d, uint32_t label) {
    if (person == best) {
      if (d < best_d) {
        best_d = d;
        best_label = label;
      }
    } else if (d < best_d) {
      // The old best is now the closest other person: it was closer than any earlier second.
      second = best;
      second_d = best_d;
      best = person;
      best_d = d;
      best_label = label;
    } else if (d < second_d) {
      second = person;
      second_d = d;
    }
  }
};

namespace {
// A loaded hnswlib graph must be safe to walk: the entry point and every link name an element of the
// index, and no list is longer than its level allows. hnswlib's loader checks only the file's length, and
// a search follows links blindly (a bad one reads out of bounds).
void validate_graph(hnswlib::HierarchicalNSW<float>& h) {
  const size_t n = h.cur_element_count;
  auto check_list = [&](hnswlib::linklistsizeint* list, size_t max_size, size_t element) {
    size_t count = h.getListCount(list);
    const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
    bool ok = count <= max_size && std::all_of(links, links + count, [&](hnswlib::tableint t) { return t < n; });
    if (!ok) throw std::runtime_error("the index graph is damaged at element " + std::to_string(element));
  };
  if (n > 0 && (size_t(h.enterpoint_node_) >= n || h.maxlevel_ != h.element_levels_[h.enterpoint_node_])) {
    throw std::runtime_error("the index graph's entry point is damaged");
  }
  for (size_t i = 0; i < n; ++i) {
    auto id = hnswlib::tableint(i);
    check_list(h.get_linklist0(id), h.maxM0_, i);
    for (int level = 1; level <= h.element_levels_[i]; ++level) check_list(h.get_linklist(id, level), h.maxM_, i);
  }
}

}  // namespace

// hnswlib's SSE squared-L2 kernel for the gallery's dimension (4x the scalar loop, which -O2 cannot vectorise
// without reassociating float sums).
struct hnswlib_space {
  explicit hnswlib_space(size_t dim) : space(dim), distance(space.get_dist_func()), param(space.get_dist_func_param()) {}
  float squared_l2(const float* a, const float* b) const { return distance(a, b, param); }
  hnswlib::L2Space space;
  hnswlib::DISTFUNC<float> distance;
  void* param;
};

struct Gallery::Index {
  explicit Index(size_t dim) : space(dim) {}
  hnswlib::L2Space space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
};

void Gallery::require_dimension_locked(size_t size, const char* what) const {
  if (size != dim_)
    throw std::invalid_argument(std::string(what) + " a vector of " + std::to_string(size) +
                                " numbers in a gallery of " + std::to_string(dim_) +
                                "-number vectors: they come from different face models");
}

size_t Gallery::dimension() const {
  std::shared_lock lock(mutex_);
  return dim_;
}

Gallery::Gallery(size_t hnsw_from_size) : hnsw_from_size_(std::max<size_t>(1, hnsw_from_size)) {}
Gallery::~Gallery() = default;

uint32_t Gallery::intern_person_locked(const std::string& person_id) {
  auto [it, inserted] = person_index_.try_emplace(person_id, uint32_t(person_names_.size()));
  if (inserted) {
    person_names_.push_back(person_id);
    embeddings_per_person_.push_back(0);
  }
  return it->second;
}

void Gallery::add(const std::string& person_id, const std::string& embedding_id, const std::vector<float>& unit) {
  std::unique_lock lock(mutex_);
  if (person_of_.empty() && !index_ && !unit.empty() && unit.size() != dim_) {
    dim_ = unit.size();
    exact_space_ = std::make_unique<hnswlib_space>(dim_);
  }
  require_dimension_locked(unit.size(), "cannot add");
  uint32_t person = intern_person_locked(person_id);

  auto existing = label_of_embedding_.find(embedding_id);
  if (existing != label_of_embedding_.end()) {
    // Replace: drop the old entry (its label stays retired), then add as new.
    Label old = existing->second;
    int64_t dense = dense_of_label_[old];
    if (dense >= 0) {
      uint32_t old_person = person_of_[size_t(dense)];
      if (--embeddings_per_person_[old_person] == 0) --people_;
      if (index_) index_->hnsw->markDelete(old);
      remove_dense_locked(size_t(dense));
    }
    label_of_embedding_.erase(existing);
  }

  Label label = Label(dense_of_label_.size());
  size_t dense = person_of_.size();
  vectors_.insert(vectors_.end(), unit.begin(), unit.end());
  person_of_.push_back(person);
  label_of_.push_back(label);
  dense_of_label_.push_back(int64_t(dense));
  person_of_label_.push_back(person);
  embedding_of_label_.push_back(embedding_id);
  label_of_embedding_[embedding_id] = label;
  if (embeddings_per_person_[person]++ == 0) ++people_;

  if (index_) {
    auto& h = *index_->hnsw;
    if (h.cur_element_count >= h.max_elements_) h.resizeIndex(h.max_elements_ * 2);
    h.addPoint(unit.data(), label);
  } else if (person_of_.size() >= hnsw_from_size_) {
    build_index_locked();
  }
}

void Gallery::build_index_locked() {
  index_ = std::make_unique<Index>(dim_);
  size_t capacity = std::max<size_t>(2 * person_of_.size(), 1024);
  index_->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(&index_->space, capacity, kM, kEfConstruction);
  index_->hnsw->setEf(kEfSearch);
  for (size_t i = 0; i < person_of_.size(); ++i) index_->hnsw->addPoint(&vectors_[i * dim_], label_of_[i]);
}

void Gallery::remove_dense_locked(size_t dense) {
  // Swap-remove: the last entry moves into `dense`, so the array stays contiguous for the exact scan.
  const Label removed = label_of_[dense];
  const size_t last = person_of_.size() - 1;
  if (dense != last) {
    std::copy_n(&vectors_[last * dim_], dim_, &vectors_[dense * dim_]);
    person_of_[dense] = person_of_[last];
    label_of_[dense] = label_of_[last];
    dense_of_label_[label_of_[dense]] = int64_t(dense);
  }
  dense_of_label_[removed] = -1;
  vectors_.resize(last * dim_);
  person_of_.pop_back();
  label_of_.pop_back();
}

size_t Gallery::remove_person(const std::string& person_id) {
  std::unique_lock lock(mutex_);
  auto it = person_index_.find(person_id);
  if (it == person_index_.end()) return 0;
  uint32_t person = it->second;
  size_t removed = 0;
  for (size_t dense = 0; dense < person_of_.size();) {
    if (person_of_[dense] != person) {
      ++dense;
      continue;
    }
    Label label = label_of_[dense];
    if (index_) index_->hnsw->markDelete(label);
    label_of_embedding_.erase(embedding_of_label_[label]);
    embedding_of_label_[label].clear();
    remove_dense_locked(dense);
    ++removed;  // do not advance: the last entry now sits at `dense`
  }
  if (removed > 0) {
    embeddings_per_person_[person] = 0;
    --people_;
  }
  if (index_ && person_of_.size() < hnsw_from_size_) {
    index_.reset();
  } else if (index_ && index_->hnsw->num_deleted_ > index_->hnsw->cur_element_count / 2) {
    build_index_locked();  // hnswlib 0.6 never reuses deleted slots: rebuild once most of it is dead
  }
  return removed;
}

void Gallery::build_index() {
  std::unique_lock lock(mutex_);
  if (!index_) build_index_locked();
}

std::vector<std::string> Gallery::save_index(const std::string& hnsw_path) const {
  std::shared_lock lock(mutex_);
  if (!index_) throw std::runtime_error("the gallery has no HNSW index to save");
  auto& h = *index_->hnsw;  // saveIndex is not const, though it changes nothing
  h.saveIndex(hnsw_path);
  // hnswlib writes through an unchecked ofstream: a full disk leaves a short file. Its layout is a 96-byte
  // header, every element's level-0 block, then per element a 4-byte size and its upper-level links.
  uintmax_t expected = 96 + h.cur_element_count * h.size_data_per_element_;
  for (size_t i = 0; i < h.cur_element_count; ++i) {
    expected += 4 + (h.element_levels_[i] > 0 ? h.size_links_per_element_ * size_t(h.element_levels_[i]) : 0);
  }
  std::error_code ec;
  uintmax_t written = std::filesystem::file_size(hnsw_path, ec);
  if (ec || written != expected) {
    throw std::runtime_error("short write: " + std::to_string(ec ? 0 : written) + " of " + std::to_string(expected) +
                             " bytes (disk full?)");
  }
  std::vector<std::string> labels(dense_of_label_.size());
  for (size_t label = 0; label < labels.size(); ++label) {
    if (dense_of_label_[label] >= 0) labels[label] = embedding_of_label_[label];
  }
  return labels;
}

std::optional<Gallery::IndexReuse> Gallery::adopt_index(const std::string& hnsw_path,
                                                       const std::vector<std::string>& labels, size_t max_added) {
  std::unique_lock lock(mutex_);
  if (dim_ == 0) {
    // An empty gallery takes the file's vector size (its entries will all be retired as stale).
    Index peek(1);
    hnswlib::HierarchicalNSW<float> file(&peek.space, hnsw_path, false, 1);
    dim_ = (file.size_data_per_element_ - file.size_links_level0_ - sizeof(hnswlib::labeltype)) / sizeof(float);
    exact_space_ = std::make_unique<hnswlib_space>(dim_);
  }
  auto index = std::make_unique<Index>(dim_);
  index->hnsw = std::make_unique<hnswlib::HierarchicalNSW<float>>(&index->space, hnsw_path, false,
                                                                  labels.size() + person_of_.size() + 1024);
  auto& h = *index->hnsw;
  // hnswlib takes the vector size from the space, not the file: a file of another model's vectors has
  // elements of another size.
  if (h.size_data_per_element_ != h.size_links_level0_ + dim_ * sizeof(float) + sizeof(hnswlib::labeltype))
    throw std::runtime_error("the index file holds vectors of another size than this gallery's " +
                             std::to_string(dim_) + " numbers");
  // hnswlib 0.6's loading constructor never zeroes num_deleted_ before counting: recount it.
  h.num_deleted_ = 0;
  for (size_t i = 0; i < h.cur_element_count; ++i) h.num_deleted_ += h.isMarkedDeleted(hnswlib::tableint(i)) ? 1 : 0;
  validate_graph(h);
  h.setEf(kEfSearch);

  // 1. Which saved labels still hold one of our embeddings, with the same vector (nothing changed yet).
  constexpr Label kUnassigned = std::numeric_limits<Label>::max();
  std::vector<Label> label_of(person_of_.size(), kUnassigned);
  std::vector<size_t> stale;  // saved, live in the file, no longer ours
  IndexReuse reuse;
  // Labels retired before the save have no entry in the file; every entry must have a line in the table.
  for (const auto& [label, internal_id] : h.label_lookup_) {
    if (label >= labels.size()) throw std::runtime_error("label " + std::to_string(label) + " is not in the label table");
    if (h.isMarkedDeleted(internal_id)) continue;
    auto here = labels[label].empty() ? label_of_embedding_.end() : label_of_embedding_.find(labels[label]);
    int64_t dense = here == label_of_embedding_.end() ? -1 : dense_of_label_[here->second];
    const float* saved = reinterpret_cast<const float*>(h.getDataByInternalId(internal_id));
    if (dense >= 0 && label_of[size_t(dense)] == kUnassigned &&
        std::equal(saved, saved + dim_, &vectors_[size_t(dense) * dim_])) {
      label_of[size_t(dense)] = Label(label);
      ++reuse.kept;
    } else {
      stale.push_back(label);
    }
  }
  if (person_of_.size() - reuse.kept > max_added) return std::nullopt;

  // 2. Apply: retire the stale entries, add the missing embeddings under new labels.
  for (size_t label : stale) h.markDelete(label);
  reuse.removed = stale.size();
  std::vector<int64_t> dense_of_label(labels.size(), -1);
  std::vector<uint32_t> person_of_label(labels.size(), 0);
  std::vector<std::string> embedding_of_label(labels.size());
  for (size_t dense = 0; dense < person_of_.size(); ++dense) {
    Label label = label_of[dense];
    if (label == kUnassigned) {
      label = label_of[dense] = Label(dense_of_label.size());
      dense_of_label.emplace_back();
      person_of_label.emplace_back();
      embedding_of_label.emplace_back();
      if (h.cur_element_count >= h.max_elements_) h.resizeIndex(h.max_elements_ * 2);
      h.addPoint(&vectors_[dense * dim_], label);
      ++reuse.added;
    }
    dense_of_label[label] = int64_t(dense);
    person_of_label[label] = person_of_[dense];
    embedding_of_label[label] = embedding_of_label_[label_of_[dense]];
  }

  label_of_ = std::move(label_of);
  dense_of_label_ = std::move(dense_of_label);
  person_of_label_ = std::move(person_of_label);
  embedding_of_label_ = std::move(embedding_of_label);
  label_of_embedding_.clear();
  for (size_t label = 0; label < embedding_of_label_.size(); ++label) {
    if (dense_of_label_[label] >= 0) label_of_embedding_[embedding_of_label_[label]] = Label(label);
  }
  index_ = std::move(index);
  if (h.num_deleted_ > h.cur_element_count / 2) build_index_locked();  // mostly dead: a fresh graph is better
  return reuse;
}

size_t Gallery::size() const {
  std::shared_lock lock(mutex_);
  return person_of_.size();
}

size_t Gallery::people() const {
  std::shared_lock lock(mutex_);
  return people_;
}

bool Gallery::uses_hnsw() const {
  std::shared_lock lock(mutex_);
  return index_ != nullptr;
}

std::optional<GalleryMatch> Gallery::search(const std::vector<float>& unit) const {
  std::shared_lock lock(mutex_);
  if (person_of_.empty()) return std::nullopt;
  require_dimension_locked(unit.size(), "cannot search for");
  const TwoBest two = two_best_locked(unit.data());
  GalleryMatch m;
  m.person_id = person_names_[two.best];
  m.distance = std::sqrt(two.best_d);
  m.embedding_id = embedding_of_label_[two.best_label];
  if (two.second != TwoBest::kNone) {
    m.runner_up_id = person_names_[two.second];
    m.runner_up_distance = std::sqrt(two.second_d);
    m.margin = m.runner_up_distance - m.distance;
  } else {
    m.margin = kNoRunnerUp;
  }
  // The matched embedding's own nearest other person: searched from its vector, it is its own best (distance
  // 0), so that person is the runner-up; unless another person holds an identical vector.
  const TwoBest around = two_best_locked(&vectors_[size_t(dense_of_label_[two.best_label]) * dim_]);
  if (around.best != two.best) {
    m.isolation = std::sqrt(around.best_d);
    m.isolation_person_id = person_names_[around.best];
  } else if (around.second != TwoBest::kNone) {
    m.isolation = std::sqrt(around.second_d);
    m.isolation_person_id = person_names_[around.second];
  }
  return m;
}

TwoBest Gallery::two_best_locked(const float* q) const {
  return index_ ? two_best_hnsw_locked(q) : two_best_exact_locked(q);
}

TwoBest Gallery::two_best_exact_locked(const float* q) const {
  TwoBest two;
  const size_t n = person_of_.size();
  for (size_t i = 0; i < n; ++i) two.offer(person_of_[i], exact_space_->squared_l2(q, &vectors_[i * dim_]), label_of_[i]);
  return two;
}

TwoBest Gallery::two_best_hnsw_locked(const float* q) const {
  const size_t n = person_of_.size();
  TwoBest two;
  for (size_t k = std::min(kFirstK, n);; k = std::min(k * 4, n)) {
    two = TwoBest{};
    auto result = index_->hnsw->searchKnn(q, k);  // max-heap of (squared distance, label)
    while (!result.empty()) {
      auto [d, label] = result.top();
      result.pop();
      two.offer(person_of_label_[label], d, uint32_t(label));
    }
    bool need_more = two.second == TwoBest::kNone && people_ > 1;
    if (!need_more || k >= std::min(n, kMaxK)) break;
  }
  if (two.best == TwoBest::kNone) return two_best_exact_locked(q);  // cannot happen with n > 0; be safe
  return two;
}

}  // namespace facecrowd::vision
