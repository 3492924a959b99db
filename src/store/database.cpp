#include "store/database.h"
#include "store/null_condition.h"

#include <unistd.h>

#include "core/error.h"
#include "core/files.h"
#include "core/utc_time.h"
#include "store/column_value.h"
#include "store/sqlite_util.h"
#include "store/store_damage.h"

namespace facecrowd {
namespace {

constexpr int kBusyTimeoutMs = 10'000;
constexpr const char* kSchemaVersion = "1";

bool is_valid_op(const std::string& op) {
  return op == "=" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=" || op == kIsNull;
}

const IndexedField* find_field(const CollectionSpec& spec, const std::string& column) {
  for (const auto& f : spec.fields)
    if (f.column == column) return &f;
  return nullptr;
}

// Binds the indexed fields of `doc` (starting at parameter `first`) as the columns of `spec`.
void bind_fields(Statement& st, int first, const CollectionSpec& spec, const bson_t* doc) {
  with_column_values(spec, doc, [&](size_t i, auto value) {
    int index = first + int(i);
    if constexpr (std::is_same_v<decltype(value), std::monostate>) st.bind_null(index);
    else st.bind(index, value);
  });
}

std::string where_clause(const CollectionSpec& spec, const Query& q) {
  std::string sql;
  for (const auto& c : q.where) {
    if (c.column != "_id" && !find_field(spec, c.column))
      throw Error(ExitCode::kUsage, "'" + c.column + "' is not a queryable field of " + spec.name);
    if (!is_valid_op(c.op)) throw Error(ExitCode::kUsage, "unknown comparison '" + c.op + "'");
    sql += (sql.empty() ? " WHERE " : " AND ") + quote_identifier(c.column) + " " + c.op + (c.op == kIsNull ? "" : " ?");
  }
  return sql;
}

void bind_conditions(Statement& st, const Query& q) {
  int i = 1;
  for (const auto& c : q.where) {
    if (c.op == kIsNull) continue;  // no value to bind
    if (auto* v = std::get_if<int64_t>(&c.value)) st.bind(i++, *v);
    else st.bind(i++, std::get<std::string>(c.value));
  }
}

sqlite3* open_sqlite(const std::filesystem::path& file, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(file.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw Error(ExitCode::kIo, "cannot open database file '" + file.string() + "': " + msg);
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db, 1);
  return db;
}

}  // namespace

const CollectionSpec& require_collection(const std::string& name) {
  if (auto* spec = find_collection_spec(name)) return *spec;
  throw Error(ExitCode::kNotFound, "collection '" + name + "' does not exist (collections: " +
                                       collection_names_joined() + ")");
}

Database::Database(sqlite3* db, std::string name, std::filesystem::path file)
    : db_(db), name_(std::move(name)), file_(std::move(file)) {}

Database::~Database() {
  statements_.clear();
  sqlite3_close_v2(db_);
}

std::unique_ptr<Database> Database::open(const DataDir& dir, const std::string& db, OpenOptions options) {
  validate_database_name(db);
  auto lock = dir.lock(LockMode::kShared, 30'000);
  if (!dir.database_exists(db)) {
    if (!options.create_if_missing)
      throw Error(ExitCode::kNotFound, "database '" + db + "' does not exist in data directory '" +
                                           dir.root().string() + "' (databases: " +
                                           [&] {
                                             std::string s;
                                             for (auto& d : dir.databases()) s += (s.empty() ? "" : ", ") + d;
                                             return s.empty() ? std::string("none") : s;
                                           }() + ")");
    auto file = dir.next_generation_file(db);
    {
      auto fresh = open_generation(file, db, false);
    }
    dir.install_generation(db, file);
  }
  // Prove the live generation first (CURRENT names an SQLite file that opens and has our schema), and only
  // then remove the generations CURRENT does not name: with no restore running (we hold the shared lock)
  // they are leftovers of a killed restore. A damaged store is reported, never "cleaned".
  auto file = dir.live_file(db);
  std::unique_ptr<Database> database;
  try {
    database = std::unique_ptr<Database>(new Database(open_sqlite(file, false), db, file));
    exec_sql(database->db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;",
             "configuring database '" + db + "'");
    Statement check(database->db_, "SELECT value FROM meta WHERE key='schema_version'");
    if (!check.step("reading schema version of '" + file.string() + "'"))
      throw damaged_store_error(dir, db, file.filename().string() + " has no schema version");
    if (check.column_text(0) != kSchemaVersion)
      throw Error(ExitCode::kNotOurs, "database file '" + file.string() + "' has an unknown schema version");
  } catch (const Error& e) {
    // SQLite's "file is not a database", "database disk image is malformed", "no such table: meta": the
    // live generation is damaged. A full disk, a permission problem or a busy lock are not damage.
    if (e.code() == ExitCode::kIo || e.code() == ExitCode::kBusy || e.code() == ExitCode::kNotOurs ||
        e.code() == kExitDamaged)
      throw;
    throw damaged_store_error(dir, db, file.filename().string() + " cannot be read as a facecrowd database (" + e.what() + ")");
  }
  dir.remove_stale_generations(db);
  database->lock_ = std::move(lock);
  return database;
}

std::unique_ptr<Database> Database::open_generation(const std::filesystem::path& file, const std::string& db,
                                                    bool bulk_load) {
  auto database = std::unique_ptr<Database>(new Database(open_sqlite(file, true), db, file));
  if (bulk_load) {
    // mmap: building the indexes after the load reads the whole table back, and reading it through the
    // mapping saves a copy of every page out of the kernel (pread); closed (unmapped) before the swap.
    // 16 KiB pages (set before the first table exists): a restore writes every page once, and with 4 KiB
    // pages the load spent a third more CPU time (a quarter of a million pwrite calls and page headers for
    // 500 MB; an fs.chunks document spans 16 overflow pages instead of 63). The generation keeps them.
    exec_sql(database->db_,
             "PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536; "
             "PRAGMA mmap_size=17179869184;",
             "configuring new database file '" + file.string() + "'");
  } else {
    exec_sql(database->db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
             "configuring new database file '" + file.string() + "'");
  }
  database->create_schema(!bulk_load);
  return database;
}

void Database::create_schema(bool with_secondary_indexes) {
  std::string sql = "BEGIN;";
  sql += "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);";
  sql += "INSERT OR IGNORE INTO meta VALUES ('schema_version', '" + std::string(kSchemaVersion) + "');";
  sql += "INSERT OR IGNORE INTO meta VALUES ('created_at', '" + format_iso8601(now_millis()) + "');";
  sql += "INSERT OR IGNORE INTO meta VALUES ('last_ts', '0');";
  sql += "CREATE TABLE IF NOT EXISTS oplog (ts INTEGER PRIMARY KEY, entry BLOB NOT NULL);";
  for (const auto& spec : collection_specs()) {
    // The indexed columns come before the document: a row's columns are stored in order, and a large
    // document (an fs.chunks row holds up to 255 KiB) lives mostly in overflow pages, so a column after
    // it could only be read by walking that chain. Building fs.chunks' index after a restore read every
    // stored image again that way. Tables of older generations keep their order; every statement names
    // its columns.
    sql += "CREATE TABLE IF NOT EXISTS " + quote_identifier(spec.name) + " (_id TEXT PRIMARY KEY";
    for (const auto& f : spec.fields)
      sql += ", " + quote_identifier(f.column) + (f.type == ColumnType::kText ? " TEXT" : " INTEGER");
    sql += ", doc BLOB NOT NULL);";
  }
  sql += "COMMIT;";
  exec_sql(db_, sql, "creating tables in '" + file_.string() + "'");
  if (with_secondary_indexes) finish_bulk_load();
}

void Database::finish_bulk_load() {
  std::string sql = "BEGIN;";
  for (const auto& spec : collection_specs()) {
    for (const auto& index : spec.indexes) {
      std::string name = spec.name + "_by";
      std::string cols;
      for (const auto& c : index.columns) {
        name += "_" + c;
        cols += (cols.empty() ? "" : ", ") + quote_identifier(c);
      }
      sql += std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX IF NOT EXISTS " +
             quote_identifier(name) + " ON " + quote_identifier(spec.name) + " (" + cols + ");";
    }
  }
  sql += "COMMIT;";
  exec_sql(db_, sql, "building indexes in '" + file_.string() + "'");
  std::string mode;
  {
    Statement journal(db_, "PRAGMA journal_mode");
    journal.step();
    mode = journal.column_text(0);
  }  // finalized: an active statement would block the switch to WAL
  if (mode != "wal") {
    exec_sql(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "switching '" + file_.string() + "' to WAL");
    fsync_path(file_);
  }
}

Statement& Database::cached(const std::string& key, const std::string& sql) {
  auto& slot = statements_[key];
  if (!slot) slot = std::make_unique<Statement>(db_, sql);
  slot->reset();
  return *slot;
}

std::optional<Document> Database::get_document(const std::string& collection, const std::string& id_key) {
  require_collection(collection);
  auto& st = cached("get" + collection, "SELECT doc FROM " + quote_identifier(collection) + " WHERE _id = ?");
  st.bind(1, id_key);
  if (!st.step("reading " + collection)) return std::nullopt;
  auto blob = st.column_blob(0);
  Document doc = Document::from_bytes(reinterpret_cast<const uint8_t*>(blob.data()), blob.size(), collection);
  st.reset();
  return doc;
}

void Database::find_documents(const std::string& collection, const Query& query,
                                const std::function<bool(const Document&)>& fn) {
  const auto& spec = require_collection(collection);
  std::string sql = "SELECT doc FROM " + quote_identifier(collection) + where_clause(spec, query);
  if (!query.order_by.empty()) {
    if (query.order_by != "_id" && !find_field(spec, query.order_by))
      throw Error(ExitCode::kUsage, "cannot order " + collection + " by '" + query.order_by + "'");
    sql += " ORDER BY " + quote_identifier(query.order_by) + (query.descending ? " DESC" : " ASC");
  }
  if (query.limit >= 0) sql += " LIMIT " + std::to_string(query.limit);
  Statement st(db_, sql);
  bind_conditions(st, query);
  while (st.step("querying " + collection)) {
    auto blob = st.column_blob(0);
    if (!fn(Document::from_bytes(reinterpret_cast<const uint8_t*>(blob.data()), blob.size(), collection))) break;
  }
}

std::optional<std::string> Database::read_meta(const std::string& key) {
  auto& st = cached("meta_get", "SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  if (!st.step("reading '" + key + "' of database '" + name_ + "'")) return std::nullopt;
  std::string value = st.column_text(0);
  st.reset();
  return value;
}

bool Database::checkpoint_truncate() {
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return false;
  if (rc != SQLITE_OK)
    throw Error(ExitCode::kIo, "checkpointing the WAL of '" + file_.string() + "': " + sqlite3_errmsg(db_));
  return true;
}

Database::WriteTransaction Database::write() { return WriteTransaction(this); }
Database::ReadTransaction Database::read() { return ReadTransaction(this); }

// ---- WriteTransaction ----

Database::WriteTransaction::WriteTransaction(Database* db) : db_(db) {
  exec_sql(db_->db_, "BEGIN IMMEDIATE", "starting a write to database '" + db_->name_ + "'");
  auto& st = db_->cached("last_ts", "SELECT max(coalesce((SELECT max(ts) FROM oplog), 0), "
                                    "(SELECT CAST(value AS INTEGER) FROM meta WHERE key='last_ts'))");
  st.step();
  last_ts_ = OplogTimestamp::from_packed(uint64_t(st.column_int(0)));
  st.reset();
}

Database::WriteTransaction::WriteTransaction(WriteTransaction&& other) noexcept
    : db_(other.db_), last_ts_(other.last_ts_), done_(other.done_) {
  other.done_ = true;
}

Database::WriteTransaction::~WriteTransaction() {
  if (!done_) sqlite3_exec(db_->db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

OplogTimestamp Database::WriteTransaction::append_oplog(char op, const std::string& collection, const bson_t* o) {
  auto ts = OplogTimestamp::next(last_ts_, uint32_t(now_millis() / 1000));
  Document entry = encode_oplog_entry(ts, op, db_->name_ + "." + collection, o);
  auto& st = db_->cached("oplog_insert", "INSERT INTO oplog (ts, entry) VALUES (?, ?)");
  st.bind(1, int64_t(ts.packed())).bind_blob(2, entry.bytes());
  st.step("appending to the oplog of '" + db_->name_ + "'");
  last_ts_ = ts;
  return ts;
}

void Database::WriteTransaction::put(const std::string& collection, std::string_view id, const bson_t* doc,
                                     bool upsert) {
  const auto& spec = require_collection(collection);
  // A restore calls this for every document: the statement and its message are built once per
  // collection, not per call.
  auto& slot = db_->statements_[(upsert ? "upsert " : "insert ") + collection];
  if (!slot) {
    std::string cols = "_id, doc", params = "?, ?";
    for (const auto& f : spec.fields) {
      cols += ", " + quote_identifier(f.column);
      params += ", ?";
    }
    std::string verb = upsert ? "INSERT OR REPLACE" : "INSERT";
    slot = std::make_unique<Statement>(db_->db_, verb + " INTO " + quote_identifier(collection) + " (" + cols +
                                                     ") VALUES (" + params + ")");
  }
  Statement& st = *slot;
  st.reset();
  st.bind(1, id).bind_blob(2, std::string_view(reinterpret_cast<const char*>(bson_get_data(doc)), doc->len));
  bind_fields(st, 3, spec, doc);
  try {
    st.step(collection);
  } catch (const Error& e) {
    if (e.code() == ExitCode::kConflict)
      throw Error(ExitCode::kConflict, collection + ": document '" + std::string(id) + "' conflicts with an existing one (" +
                                           e.what() + ")");
    throw Error(e.code(), std::string("writing a document to ") + e.what());
  }
}

std::string Database::WriteTransaction::insert(const std::string& collection, Document doc) {
  require_collection(collection);
  std::string id = doc.ensure_id();
  put(collection, id, doc.get(), false);
  append_oplog('i', collection, doc.get());
  return id;
}

void Database::WriteTransaction::replace(const std::string& collection, const Document& doc) {
  require_collection(collection);
  auto id = doc.id_key();
  if (!id) throw Error(ExitCode::kBadInput, collection + ": a replacement document needs an _id");
  auto& exists = db_->cached("exists" + collection, "SELECT 1 FROM " + quote_identifier(collection) + " WHERE _id = ?");
  exists.bind(1, *id);
  if (!exists.step()) throw Error(ExitCode::kNotFound, collection + ": no document with _id '" + *id + "'");
  exists.reset();
  put(collection, *id, doc.get(), true);
  append_oplog('u', collection, doc.get());
}

bool Database::WriteTransaction::remove(const std::string& collection, const std::string& id_key) {
  require_collection(collection);
  // The oplog 'o' of a delete is {_id: <original typed value>}, so replay can find the same key.
  auto original = db_->get_document(collection, id_key);
  if (!original) return false;
  bson_t* o = bson_new();
  bson_iter_t it;
  if (bson_iter_init_find(&it, original->get(), "_id")) bson_append_iter(o, "_id", 3, &it);
  Document id_doc(o);
  auto& del = db_->cached("del" + collection, "DELETE FROM " + quote_identifier(collection) + " WHERE _id = ?");
  del.bind(1, id_key);
  del.step("deleting from " + collection);
  append_oplog('d', collection, id_doc.get());
  return true;
}

void Database::WriteTransaction::note(const Document& message) { append_oplog('n', "$cmd", message.get()); }

void Database::WriteTransaction::replay(const OplogEntry& entry) {
  caches_stale_ = true;
  if (entry.op == 'i' || entry.op == 'u') {
    auto id = entry.o.id_key();
    if (!id) throw Error(ExitCode::kBadInput, "oplog entry " + entry.ts.to_string() + " has a document without _id");
    put(entry.collection(), *id, entry.o.get(), true);
  } else if (entry.op == 'd') {
    auto id = entry.o.id_key();
    if (!id) throw Error(ExitCode::kBadInput, "oplog entry " + entry.ts.to_string() + " deletes without _id");
    const auto& spec = require_collection(entry.collection());
    auto& del = db_->cached("del" + spec.name, "DELETE FROM " + quote_identifier(spec.name) + " WHERE _id = ?");
    del.bind(1, *id);
    del.step("replaying a delete on " + spec.name);
  }
  if (entry.ts > last_ts_) {
    Document recorded = encode_oplog_entry(entry.ts, entry.op, db_->name_ + "." + entry.collection(), entry.o.get());
    auto& st = db_->cached("oplog_insert", "INSERT INTO oplog (ts, entry) VALUES (?, ?)");
    st.bind(1, int64_t(entry.ts.packed())).bind_blob(2, recorded.bytes());
    st.step("recording a replayed oplog entry");
    last_ts_ = entry.ts;
  }
}

void Database::WriteTransaction::load(const std::string& collection, const uint8_t* bson, size_t size) {
  caches_stale_ = true;
  bson_t view;
  if (!bson_init_static(&view, bson, size))
    throw Error(ExitCode::kBadInput, collection + ": document does not decode as BSON");
  bson_iter_t it;
  if (!bson_iter_init_find(&it, &view, "_id"))
    throw Error(ExitCode::kBadInput, collection + ": document without _id");
  put(collection, id_key_of(it), &view, false);
}

int64_t Database::WriteTransaction::clear(const std::string& collection) {
  require_collection(collection);
  caches_stale_ = true;
  exec_sql(db_->db_, "DELETE FROM " + quote_identifier(collection), "clearing " + collection);
  return sqlite3_changes64(db_->db_);
}

int64_t Database::WriteTransaction::trim_oplog(OplogTimestamp before) {
  auto& st = db_->cached("oplog_trim", "DELETE FROM oplog WHERE ts < ?");
  st.bind(1, int64_t(before.packed()));
  st.step("trimming the oplog");
  return sqlite3_changes64(db_->db_);
}

std::optional<Document> Database::WriteTransaction::get(const std::string& collection, const std::string& id_key) {
  return db_->get_document(collection, id_key);
}

void Database::WriteTransaction::find(const std::string& collection, const Query& query,
                                      const std::function<bool(const Document&)>& fn) {
  db_->find_documents(collection, query, fn);
}

void Database::WriteTransaction::secure_delete() {
  exec_sql(db_->db_, "PRAGMA secure_delete=ON", "turning on secure_delete for '" + db_->name_ + "'");
}

std::optional<std::string> Database::WriteTransaction::meta(const std::string& key) {
  return db_->read_meta(key);
}

void Database::WriteTransaction::set_meta(const std::string& key, const std::string& value) {
  auto& st = db_->cached("meta_set", "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
  st.bind(1, key).bind(2, value);
  st.step("writing '" + key + "' of database '" + db_->name_ + "'");
}

int64_t Database::WriteTransaction::rewrite_oplog(
    const std::function<std::optional<Document>(const OplogEntry& entry)>& fn) {
  std::vector<std::pair<int64_t, Document>> replaced;
  {
    Statement st(db_->db_, "SELECT ts, entry FROM oplog ORDER BY ts");
    while (st.step("reading the oplog of '" + db_->name_ + "'")) {
      auto blob = st.column_blob(1);
      auto entry = decode_oplog_entry(reinterpret_cast<const uint8_t*>(blob.data()), blob.size(),
                                      "oplog entry of '" + db_->name_ + "'");
      if (auto replacement = fn(entry)) replaced.emplace_back(st.column_int(0), std::move(*replacement));
    }
  }
  auto& update = db_->cached("oplog_rewrite", "UPDATE oplog SET entry = ? WHERE ts = ?");
  for (const auto& [ts, doc] : replaced) {
    update.bind_blob(1, doc.bytes()).bind(2, ts);
    update.step("rewriting an oplog entry of '" + db_->name_ + "'");
    update.reset();
  }
  return int64_t(replaced.size());
}

void Database::WriteTransaction::commit() {
  if (caches_stale_)
    exec_sql(db_->db_, "DELETE FROM meta WHERE key LIKE 'cache.%'", "dropping caches of database '" + db_->name_ + "'");
  auto& st = db_->cached("last_ts_update", "UPDATE meta SET value = ? WHERE key = 'last_ts'");
  st.bind(1, std::to_string(last_ts_.packed()));
  st.step("recording the oplog position");
  exec_sql(db_->db_, "COMMIT", "committing to database '" + db_->name_ + "'");
  done_ = true;
}

// ---- ReadTransaction ----

Database::ReadTransaction::ReadTransaction(Database* db) : db_(db) {
  exec_sql(db_->db_, "BEGIN", "starting a read of database '" + db_->name_ + "'");
  position();  // the first read pins the WAL snapshot
}

Database::ReadTransaction::ReadTransaction(ReadTransaction&& other) noexcept : db_(other.db_), done_(other.done_) {
  other.done_ = true;
}

Database::ReadTransaction::~ReadTransaction() {
  if (!done_) sqlite3_exec(db_->db_, "COMMIT", nullptr, nullptr, nullptr);
}

OplogTimestamp Database::ReadTransaction::position() {
  auto& st = db_->cached("last_ts", "SELECT max(coalesce((SELECT max(ts) FROM oplog), 0), "
                                    "(SELECT CAST(value AS INTEGER) FROM meta WHERE key='last_ts'))");
  st.step("reading the oplog position");
  auto ts = OplogTimestamp::from_packed(uint64_t(st.column_int(0)));
  st.reset();
  return ts;
}

int64_t Database::ReadTransaction::count(const std::string& collection) {
  require_collection(collection);
  auto& st = db_->cached("count" + collection, "SELECT count(*) FROM " + quote_identifier(collection));
  st.step("counting " + collection);
  int64_t n = st.column_int(0);
  st.reset();  // a cached statement left on a row would keep this snapshot open after the transaction ends
  return n;
}

int64_t Database::ReadTransaction::document_bytes(const std::string& collection) {
  require_collection(collection);
  auto& st = db_->cached("bytes" + collection, "SELECT coalesce(sum(length(doc)), 0) FROM " + quote_identifier(collection));
  st.step("measuring " + collection);
  int64_t n = st.column_int(0);
  st.reset();  // see count()
  return n;
}

std::optional<Document> Database::ReadTransaction::get(const std::string& collection, const std::string& id_key) {
  return db_->get_document(collection, id_key);
}

void Database::ReadTransaction::find(const std::string& collection, const Query& query,
                                     const std::function<bool(const Document&)>& fn) {
  db_->find_documents(collection, query, fn);
}

int64_t Database::ReadTransaction::count(const std::string& collection, const Query& query) {
  const auto& spec = require_collection(collection);
  Statement st(db_->db_, "SELECT count(*) FROM " + quote_identifier(collection) + where_clause(spec, query));
  bind_conditions(st, query);
  st.step("counting " + collection);
  return st.column_int(0);
}

void Database::ReadTransaction::scan(const std::string& collection, const std::function<void(std::string_view)>& fn) {
  require_collection(collection);
  Statement st(db_->db_, "SELECT doc FROM " + quote_identifier(collection));
  while (st.step("reading " + collection)) fn(st.column_blob(0));
}

Database::ReadTransaction::OplogRange Database::ReadTransaction::oplog_range() {
  Statement st(db_->db_, "SELECT coalesce(min(ts), 0), coalesce(max(ts), 0), count(*) FROM oplog");
  st.step("reading the oplog range");
  return {OplogTimestamp::from_packed(uint64_t(st.column_int(0))), OplogTimestamp::from_packed(uint64_t(st.column_int(1))),
          st.column_int(2)};
}

std::optional<std::string> Database::ReadTransaction::meta(const std::string& key) {
  return db_->read_meta(key);
}

void Database::ReadTransaction::scan_oplog(OplogTimestamp after, OplogTimestamp up_to,
                                           const std::function<void(OplogTimestamp, std::string_view)>& fn) {
  Statement st(db_->db_, "SELECT ts, entry FROM oplog WHERE ts > ? AND ts <= ? ORDER BY ts");
  st.bind(1, int64_t(after.packed())).bind(2, int64_t(up_to.packed()));
  while (st.step("reading the oplog")) fn(OplogTimestamp::from_packed(uint64_t(st.column_int(0))), st.column_blob(1));
}

}  // namespace facecrowd
