// One database (e.g. `face-recognition`): the collections of schema.h plus the oplog, in one SQLite file
// in WAL mode. This class is the only code that writes collection tables (DESIGN invariant 1): every
// insert, replace and remove made through a WriteTransaction appends its oplog entry in the same SQLite
// transaction, with a Timestamp(secs, inc) that only grows.
//
// A Database object is one SQLite connection: use it from one thread at a time. Other threads and other
// processes open their own; SQLite serialises writers (BEGIN IMMEDIATE, 10 s busy timeout) and gives each
// ReadTransaction a consistent snapshot (DESIGN invariant 2).
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/oplog_timestamp.h"
#include "store/data_dir.h"
#include "store/document.h"
#include "store/oplog_entry.h"
#include "store/schema.h"

namespace facecrowd {

class Statement;

// A filter on indexed columns (schema.h) or `_id`; conditions are ANDed.
struct Condition {
  std::string column;
  std::string op;  // one of = != < <= > >=
  std::variant<int64_t, std::string> value;
};
struct Query {
  std::vector<Condition> where;
  std::string order_by;     // an indexed column or "_id"; empty: storage order
  bool descending = false;
  int64_t limit = -1;       // -1: no limit
};

class Database {
 public:
  struct OpenOptions {
    bool create_if_missing = true;  // false: Error(kNotFound) when the database does not exist
  };

  // Opens the live generation of `db` in `dir`, holding a shared data-directory lock while open.
  static std::unique_ptr<Database> open(const DataDir& dir, const std::string& db, OpenOptions options);
  static std::unique_ptr<Database> open(const DataDir& dir, const std::string& db) { return open(dir, db, {}); }

  // Opens (creating) a bare generation file, used by restore to build a database beside the live one. In
  // bulk-load mode the file has no journal and no fsyncs and secondary indexes are deferred:
  // finish_bulk_load() builds the indexes, switches to WAL and makes the file durable.
  static std::unique_ptr<Database> open_generation(const std::filesystem::path& file, const std::string& db,
                                                   bool bulk_load);
  void finish_bulk_load();

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& name() const { return name_; }
  const std::filesystem::path& file() const { return file_; }
  sqlite3* handle() { return db_; }

  // PRAGMA wal_checkpoint(TRUNCATE): copies the WAL into the database file and truncates it to 0 bytes,
  // so no old page versions stay readable in it (after an erasure). false when readers kept it from
  // completing (SQLITE_BUSY after the busy timeout); the next checkpoint completes it.
  bool checkpoint_truncate();

  class WriteTransaction;
  class ReadTransaction;
  WriteTransaction write();  // BEGIN IMMEDIATE
  ReadTransaction read();    // a snapshot, pinned at construction

 private:
  Database(sqlite3* db, std::string name, std::filesystem::path file);
  void create_schema(bool with_secondary_indexes);
  Statement& cached(const std::string& key, const std::string& sql);
  // Reads shared by both transaction kinds (they see whatever the open transaction sees).
  std::optional<Document> get_document(const std::string& collection, const std::string& id_key);
  void find_documents(const std::string& collection, const Query& query, const std::function<bool(const Document&)>& fn);
  std::optional<std::string> read_meta(const std::string& key);

  sqlite3* db_;
  std::string name_;
  std::filesystem::path file_;
  std::shared_ptr<DataDirLock> lock_;
  std::map<std::string, std::unique_ptr<Statement>> statements_;
};

class Database::WriteTransaction {
 public:
  ~WriteTransaction();  // rolls back unless committed
  WriteTransaction(WriteTransaction&&) noexcept;

  // Inserts `doc` (an `_id` is added when missing) and returns its key. Error(kConflict) on a duplicate
  // `_id` or unique field; Error(kNotFound) for an unknown collection.
  std::string insert(const std::string& collection, Document doc);
  // Replaces the document with the same `_id`; Error(kNotFound) when there is none.
  void replace(const std::string& collection, const Document& doc);
  // Removes by key; false when there was no such document.
  bool remove(const std::string& collection, const std::string& id_key);
  // Records an 'n' (no-op) entry, e.g. that a restore happened.
  void note(const Document& message);

  // Applies an oplog entry from a backup or a shipped slice (upsert for i/u, delete for d) and records it
  // in this database's oplog under its own ts. Used by point-in-time recovery.
  void replay(const OplogEntry& entry);
  // Inserts without an oplog entry; only for building a restore generation from an archive, which is a
  // copy of data whose history the archive's own oplog position already covers.
  void load(const std::string& collection, const uint8_t* bson, size_t size);
  // Deletes every document of `collection` without oplog entries; only for a restore generation (the
  // `--drop` of a restore, whose result is recorded by the restore's own note). Returns how many.
  int64_t clear(const std::string& collection);
  // Moves this database's oplog position forward to at least `ts` (persisted by commit()), so a restored
  // generation continues after every position seen before it and later oplog shipping stays monotonic.
  void advance_position(OplogTimestamp ts) { last_ts_ = std::max(last_ts_, ts); }

  // Deletes oplog entries with ts < `before` (entries no kept backup needs); returns how many.
  int64_t trim_oplog(OplogTimestamp before);

  // Reads inside this transaction (they see its own uncommitted writes), with ReadTransaction's
  // contracts; for read-then-write decisions that must not race other writers (e.g. the file store's
  // content-addressed reuse, retention's "nothing points to this file").
  std::optional<Document> get(const std::string& collection, const std::string& id_key);
  void find(const std::string& collection, const Query& query, const std::function<bool(const Document&)>& fn);

  OplogTimestamp last_position() const { return last_ts_; }
  void commit();

  // From now on this connection overwrites with zeros what it deletes (PRAGMA secure_delete=ON), so an
  // erased person's rows do not stay readable in free pages.
  void secure_delete();

  // Small named values stored beside the collections in this database file: never in a backup, never in
  // the oplog. Keys starting with "cache." hold what can be recomputed from the collections (e.g. the
  // audit chain's head); they are dropped at commit() when load(), replay() or clear() ran in the
  // transaction, so such a cache never outlives a change made around the normal write path.
  std::optional<std::string> meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);

  // Rewrites oplog entries in place, keeping each ts: `fn` gets every entry (ts order) and returns the
  // replacement entry, or nullopt to keep it. Returns how many were replaced. The one sanctioned exception
  // to an append-only oplog: a GDPR erasure (app/privacy/erasure.h) must leave the person nowhere, the live oplog
  // included. Entries already shipped or in archives are outside the data directory and unaffected.
  int64_t rewrite_oplog(const std::function<std::optional<Document>(const OplogEntry& entry)>& fn);

 private:
  friend class Database;
  explicit WriteTransaction(Database* db);
  OplogTimestamp append_oplog(char op, const std::string& collection, const bson_t* o);
  void put(const std::string& collection, std::string_view id, const bson_t* doc, bool upsert);

  Database* db_;
  OplogTimestamp last_ts_;
  bool done_ = false;
  bool caches_stale_ = false;  // load/replay/clear ran: drop the "cache." meta keys at commit
};

class Database::ReadTransaction {
 public:
  ~ReadTransaction();
  ReadTransaction(ReadTransaction&&) noexcept;

  // The oplog position this snapshot reflects: every entry at or before it is visible, none after.
  OplogTimestamp position();
  int64_t count(const std::string& collection);
  int64_t document_bytes(const std::string& collection);  // sum of BSON sizes
  std::optional<Document> get(const std::string& collection, const std::string& id_key);
  // Calls `fn` with each matching document until it returns false.
  void find(const std::string& collection, const Query& query, const std::function<bool(const Document&)>& fn);
  int64_t count(const std::string& collection, const Query& query);
  // Raw BSON of every document, in storage order (fast path for backups).
  void scan(const std::string& collection, const std::function<void(std::string_view bson)>& fn);

  struct OplogRange {
    OplogTimestamp first, last;  // null when empty
    int64_t entries = 0;
  };
  OplogRange oplog_range();
  // See WriteTransaction::meta.
  std::optional<std::string> meta(const std::string& key);
  // Raw BSON oplog entries with after < ts <= up_to, in ts order.
  void scan_oplog(OplogTimestamp after, OplogTimestamp up_to,
                  const std::function<void(OplogTimestamp, std::string_view entry)>& fn);

 private:
  friend class Database;
  explicit ReadTransaction(Database* db);
  Database* db_;
  bool done_ = false;
};

// Error(kNotFound) naming the known collections when `name` is not one.
const CollectionSpec& require_collection(const std::string& name);

}  // namespace facecrowd
