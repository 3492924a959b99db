#include "app/faces/gallery_index.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>
#include <stdexcept>

#include "app/privacy/erasure_ledger.h"
#include "core/error.h"
#include "core/files.h"
#include "core/number_text.h"
#include "core/random_hex.h"
#include "store/data_dir.h"

namespace facecrowd {
namespace {

constexpr const char* kTableName = "gallery-index.ids";
constexpr const char* kIndexPrefix = "gallery-index-";
constexpr const char* kIndexSuffix = ".hnsw";
constexpr int kFormat = 1;

bool is_index_file(const fs::path& p) {
  std::string name = p.filename().string();
  return name == kTableName || (name.rfind(kIndexPrefix, 0) == 0 && p.extension() == kIndexSuffix);
}

struct Table {
  fs::path hnsw;
  std::vector<std::string> labels;
};

// The table and its index file when they are present, for this model and intact; otherwise why not.
std::optional<Table> read_table(const fs::path& db_dir, const std::string& model_version, std::string* why) {
  std::ifstream in(db_dir / kTableName);
  if (!in) {
    *why = "no gallery index (build it with `facecrowd gallery index`)";
    return std::nullopt;
  }
  std::string line;
  nlohmann::json header;
  try {
    std::getline(in, line);
    header = nlohmann::json::parse(line);
    if (header.at("format") != kFormat) throw std::runtime_error("format " + header.at("format").dump());
    if (header.at("modelVersion") != model_version) {
      *why = "the gallery index is of another model (" + header.at("modelVersion").get<std::string>() +
             "); rebuild it with `facecrowd gallery index`";
      return std::nullopt;
    }
    Table t;
    std::string name = header.at("hnsw");
    if (name.find('/') != std::string::npos) throw std::runtime_error("index name '" + name + "'");
    t.hnsw = db_dir / name;
    size_t count = header.at("labels");
    t.labels.reserve(count);
    while (t.labels.size() < count && std::getline(in, line)) t.labels.push_back(line);
    if (t.labels.size() != count) throw std::runtime_error("label table cut short");
    std::error_code ec;
    uint64_t bytes = fs::file_size(t.hnsw, ec);
    if (ec || bytes != header.at("bytes").get<uint64_t>()) {
      *why = "the gallery index file '" + t.hnsw.string() + "' is missing or damaged; rebuild it with "
             "`facecrowd gallery index`";
      return std::nullopt;
    }
    return t;
  } catch (const std::exception& e) {
    *why = "the gallery index table '" + (db_dir / kTableName).string() + "' is unreadable (" + e.what() +
           "); rebuild it with `facecrowd gallery index`";
    return std::nullopt;
  }
}

GalleryIndexUse adopt_cached(const fs::path& db_dir, const std::string& model_version, vision::Gallery& gallery,
                             size_t max_added) {
  GalleryIndexUse use;
  auto table = read_table(db_dir, model_version, &use.note);
  if (!table) return use;
  try {
    auto reuse = gallery.adopt_index(table->hnsw.string(), table->labels, max_added);
    if (!reuse) {
      use.note = "the gallery index lacks more than " + std::to_string(max_added) +
                 " embeddings; refresh it with `facecrowd gallery index`";
      return use;
    }
    use.used = true;
    use.reuse = *reuse;
    use.note = "gallery index: " + std::to_string(reuse->kept) + " kept, " + std::to_string(reuse->added) +
               " added, " + std::to_string(reuse->removed) + " removed";
  } catch (const std::exception& e) {
    use.note = "the gallery index '" + table->hnsw.string() + "' could not be loaded (" + e.what() +
               "); rebuild it with `facecrowd gallery index`";
  }
  return use;
}

std::string random_token() { return random_hex(8); }

// Removes this database's index files: all of them, or, given the index just written, the older ones.
size_t remove_index_files(const fs::path& db_dir, const fs::path& keep = {}) {
  size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(db_dir, ec)) {
    const fs::path& p = entry.path();
    bool kept = !keep.empty() && (p == keep || p.filename() == kTableName);
    if (is_index_file(p) && !kept && fs::remove(p, ec)) ++removed;
  }
  return removed;
}

}  // namespace

GallerySearchMode parse_gallery_search_mode(const std::string& text) {
  if (text == "auto") return GallerySearchMode::kAuto;
  if (text == "index") return GallerySearchMode::kIndex;
  if (text == "exact") return GallerySearchMode::kExact;
  throw Error(ExitCode::kUsage, "gallery search '" + text + "' is not known: use auto (default), index or exact");
}

SearchGallery open_search_gallery(Database::ReadTransaction& tx, const fs::path& db_dir,
                                  const std::string& model_version, size_t searches, GallerySearchMode mode,
                                  size_t indexed_from) {
  SearchGallery s;
  s.gallery = std::make_unique<vision::Gallery>(kOneShotHnswFromSize);
  s.loaded = load_gallery(tx, model_version, *s.gallery);
  if (mode == GallerySearchMode::kExact) {
    s.index.note = "exact search, as asked";
  } else if (mode == GallerySearchMode::kAuto && s.gallery->size() < indexed_from) {
    s.index.note = "exact search: " + std::to_string(s.gallery->size()) + " embeddings (an index pays from " +
                   std::to_string(indexed_from) + ")";
  } else if (mode == GallerySearchMode::kAuto && searches < kIndexPaysFromSearches) {
    s.index.note = "exact search: " + counted(searches, "face") + " to search (reading the index pays from " +
                   std::to_string(kIndexPaysFromSearches) + ")";
  } else {
    s.index = adopt_cached(db_dir, model_version, *s.gallery, kMaxPatchedOnUse);
  }
  return s;
}

GalleryIndexWrite write_gallery_index(const fs::path& db_dir, const std::string& model_version,
                                      vision::Gallery& gallery) {
  GalleryIndexWrite w;
  w.embeddings = gallery.size();
  if (w.embeddings == 0) {
    remove_index_files(db_dir);
    return w;
  }
  GalleryIndexUse previous = adopt_cached(db_dir, model_version, gallery, SIZE_MAX);
  w.reused_previous = previous.used;
  if (previous.used) {
    w.reuse = previous.reuse;
  } else {
    gallery.build_index();
    w.reuse.added = w.embeddings;
  }
  w.file = db_dir / (kIndexPrefix + random_token() + kIndexSuffix);
  try {
    std::vector<std::string> labels;
    try {
      labels = gallery.save_index(w.file.string());
    } catch (const std::exception& e) {
      throw Error(ExitCode::kIo, "gallery index '" + w.file.string() + "': " + e.what());
    }
    fsync_path(w.file);
    std::error_code ec;
    w.bytes = fs::file_size(w.file, ec);  // save_index already checked it against what hnswlib meant to write
    if (ec) throw Error(ExitCode::kIo, "gallery index '" + w.file.string() + "': " + ec.message());
    nlohmann::json header = {{"format", kFormat},
                             {"hnsw", w.file.filename().string()},
                             {"bytes", w.bytes},
                             {"modelVersion", model_version},
                             {"labels", labels.size()}};
    std::string table = header.dump() + "\n";
    for (const auto& id : labels) table += id + "\n";
    write_file_durably(db_dir / kTableName, table);
  } catch (...) {
    std::error_code ec;
    fs::remove(w.file, ec);
    throw;
  }
  remove_index_files(db_dir, w.file);
  return w;
}

GalleryIndexWrite index_gallery(const fs::path& data_root, const std::string& db_name,
                                const std::string& model_version) {
  auto dir = DataDir::open(data_root);
  auto db = Database::open(dir, db_name, {.create_if_missing = false});
  vision::Gallery gallery(kOneShotHnswFromSize);
  {
    auto tx = db->read();
    load_gallery(tx, model_version, gallery);
  }
  // An erasure running beside us must not leave its person in a file (see the header). Its ledger line is
  // written before its commit, and it drops every index after its commit. So: leave out everyone in the
  // ledger now (covers an erasure our snapshot saw half-way), and drop what we wrote if the ledger grew
  // while we wrote (an erasure whose own drop may have come before our file).
  ErasureLedger ledger(data_root);
  auto erased = ledger.read();
  for (const auto& record : erased) gallery.remove_person(record.person_id);
  auto written = write_gallery_index(db->file().parent_path(), model_version, gallery);
  if (ledger.read().size() != erased.size()) {
    drop_gallery_indexes(data_root);
    throw Error(ExitCode::kConflict, "a person was erased while the gallery was indexed; the index was dropped "
                                     "so that it cannot hold them: run `facecrowd gallery index` again");
  }
  return written;
}

bool gallery_index_kept(const fs::path& db_dir) {
  std::error_code ec;
  return fs::exists(db_dir / kTableName, ec);
}

size_t drop_gallery_indexes(const fs::path& data_root) {
  size_t removed = 0;
  std::error_code ec;
  for (const auto& db : fs::directory_iterator(data_root, ec)) {
    if (db.is_directory(ec)) removed += remove_index_files(db.path());
  }
  return removed;
}

nlohmann::json gallery_index_report_json(const std::string& db, const std::string& model_version,
                                         const GalleryIndexWrite& write, double seconds) {
  return {{"db", db},
          {"modelVersion", model_version},
          {"embeddings", write.embeddings},
          {"reusedPrevious", write.reused_previous},
          {"kept", write.reuse.kept},
          {"added", write.reuse.added},
          {"removed", write.reuse.removed},
          {"file", write.file.string()},
          {"bytes", write.bytes},
          {"seconds", seconds}};
}

}  // namespace facecrowd
