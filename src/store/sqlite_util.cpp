#include "store/sqlite_util.h"

#include "core/error.h"

namespace facecrowd {

void throw_sqlite(sqlite3* db, int rc, const std::string& doing) {
  std::string msg = doing + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_FULL: throw Error(ExitCode::kIo, doing + ": disk full (" + sqlite3_errstr(rc) + ")");
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM: throw Error(ExitCode::kIo, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: throw Error(ExitCode::kBusy, msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: throw Error(ExitCode::kBadInput, msg);
    case SQLITE_CONSTRAINT: throw Error(ExitCode::kConflict, msg);
    default: throw Error(ExitCode::kInternal, msg);
  }
}

void exec_sql(sqlite3* db, const std::string& sql, const std::string& doing) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) throw_sqlite(db, rc, doing);
}

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  int rc = sqlite3_prepare_v3(db, sql.c_str(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) throw_sqlite(db, rc, "preparing `" + sql + "`");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), int(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), int(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::step(const std::string& doing) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  throw_sqlite(db_, rc, doing);
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::column_text(int i) const {
  auto p = sqlite3_column_text(stmt_, i);
  return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(stmt_, i))) : std::string();
}

std::string_view Statement::column_blob(int i) const {
  auto p = static_cast<const char*>(sqlite3_column_blob(stmt_, i));
  return p ? std::string_view(p, size_t(sqlite3_column_bytes(stmt_, i))) : std::string_view();
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace facecrowd
