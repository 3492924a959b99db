// What the sections of `facecrowd import` (app/import/import_mongodump.h) share while one import runs.
// Private to app/import/. Contract:
//
//  - import_mongodump() builds one ImportRun once the dump is staged, the collections are grouped by what
//    they become (plan_import_sources) and the generation is open, then calls the sections in this order:
//    import_gridfs, import_users, import_profiles, import_attendances, import_crowd_counts, import_audit_logs.
//    Later sections read what earlier ones left in the run (file_ids, usernames, profile_names), so the
//    order is part of the contract.
//  - Every section reads its collections through run.first(as) and for_each_mapped_document, reports each through run.report_for (one
//    ImportCollectionReport per source collection, in call order), refuses a document with refuse() (a
//    counted reason, never dropped silently), and writes through run.writer, committing at its end.
//  - In a dry run run.writer is inactive: every document is still read, mapped and checked; nothing is written.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "app/import/gridfs_source.h"
#include "app/import/import_mapping.h"
#include "app/import/import_mongodump.h"
#include "app/import/mapped_document.h"
#include "backup/mongodump_reader.h"
#include "backup/staged_bson_reader.h"
#include "store/database.h"

namespace facecrowd {

// The dump's collections (with their mapping) that become one facecrowd collection, keyed by "as".
using ImportSourceList = std::vector<std::pair<const DumpCollection*, const CollectionMapping*>>;
using ImportSourcesByTarget = std::map<std::string, ImportSourceList>;

inline constexpr int64_t kImportBatchDocuments = 2000;

// Writes in transactions of kImportBatchDocuments documents; in a dry run there is no database and nothing
// is written.
class ImportWriter {
 public:
  explicit ImportWriter(Database* db) : db_(db) {}
  bool active() const { return db_ != nullptr; }
  Database::WriteTransaction& tx() {
    if (!tx_) tx_.emplace(db_->write());
    return *tx_;
  }
  void done_one() {
    if (++pending_ >= kImportBatchDocuments) commit();
  }
  // Writes `doc` (taking it) through `store(tx, Document)` in a real run; a dry run only frees it.
  template <class Store>
  void write(bson_t* doc, Store&& store) {
    if (!active()) {
      bson_destroy(doc);
      return;
    }
    store(tx(), Document(doc));
    done_one();
  }
  void insert(const char* collection, bson_t* doc) {
    write(doc, [collection](Database::WriteTransaction& tx, Document d) { tx.insert(collection, std::move(d)); });
  }
  void commit() {
    if (tx_) tx_->commit();
    tx_.reset();
    pending_ = 0;
  }

 private:
  Database* db_;
  std::optional<Database::WriteTransaction> tx_;
  int64_t pending_ = 0;
};

struct ImportRun {
  const ImportOptions& options;
  const ImportMapping& mapping;
  ImportReport& report;
  ImportWriter& writer;
  ImportSourcesByTarget by_as;
  // Reserved for every dumped collection before the first report_for, so the references it hands out stay valid.
  std::vector<ImportCollectionReport> mapped_reports;

  // The _ids taken in each facecrowd collection: a second document with one is refused (the store keys by _id).
  std::map<std::string, std::unordered_set<std::string>> seen_ids;
  // Left by import_gridfs: the GridFS files (profiles' images are read back from it to check embeddings),
  // old id -> stored id, and stored id -> the first old id with those bytes.
  std::optional<GridFsSource> gridfs;
  std::map<std::string, std::string> file_ids;
  std::map<std::string, std::string> stored_to_old;
  std::map<std::string, std::string> usernames;      // left by import_users: user _id -> username (audit actors)
  std::map<std::string, std::string> profile_names;  // left by import_profiles: profile _id -> name

  void say(const std::string& line) const;  // progress, when the caller asked for it
  ImportSourceList first(const std::string& as) const;  // the sources that become `as` (none: empty)
  ImportCollectionReport& report_for(const DumpCollection* c, const CollectionMapping* m);
};

// Picks the source database (Error(kBadInput) when the dump lacks it), groups its collections by what they
// become (unmapped ones are refused as a whole, into `unknown`), and checks the mapping against the data:
// a non-optional field that no document has is Error(kBadInput). Fills report's source_db, documents_read
// and warnings.
ImportSourcesByTarget plan_import_sources(const MongoDump& dump, const ImportMapping& mapping,
                                          const ImportOptions& options, ImportReport& report,
                                          std::vector<ImportCollectionReport>& unknown);

// The sections, in the order import_mongodump() runs them.
void import_gridfs(ImportRun& run);
void import_users(ImportRun& run);
void import_profiles(ImportRun& run);
void import_attendances(ImportRun& run);
void import_crowd_counts(ImportRun& run);
void import_audit_logs(ImportRun& run);

// ---- helpers shared by the sections ----

// Calls fn(MappedDocument&) for each document of the staged dump collection `c`, read through its mapping
// `m`, in dump order. A section's per-document `continue` is a `return` from fn.
template <class Fn>
void for_each_mapped_document(const DumpCollection& c, const CollectionMapping& m, Fn&& fn) {
  StagedBsonReader reader(c.staged);
  const uint8_t* doc;
  size_t size;
  while (reader.next(&doc, &size)) {
    MappedDocument d(doc, size, m);
    fn(d);
  }
}

// Counts a refused document under its reason, keeping the first few as examples.
void refuse(ImportCollectionReport& r, const std::string& id, const std::string& reason);
void count_legacy(ImportCollectionReport& r, const MappedDocument& d);
// Claims the document's _id among those already imported as `as`; false (the document refused and counted)
// when it has no usable _id or a second document already took it.
bool claim_id(ImportRun& run, ImportCollectionReport& r, const MappedDocument& d, const std::string& as);
// The text for `target`: the document's value (translated through `values` when the mapping has them),
// else the default. nullopt with `why` when absent without default, not text, or not in `values`.
std::optional<std::string> mapped_text(const MappedDocument& d, const CollectionMapping& m, const std::string& target,
                                       std::string& why);
std::optional<int64_t> mapped_date(const MappedDocument& d, const std::string& target);
// An ObjectId when `id` is one (the store's own ids), else the text as it is.
void append_oid_or_text(bson_t* out, const char* key, const std::string& id);

}  // namespace facecrowd
