// Thin RAII over the SQLite C API: a prepared statement and checked execution. Errors become
// Error(kIo) for disk-full/read-only/I/O, Error(kBusy) for locks, Error(kInternal) otherwise, each
// naming what was being done.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace facecrowd {

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, const std::string& doing);
void exec_sql(sqlite3* db, const std::string& sql, const std::string& doing);

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);
  // true when a row is ready; false when done. Throws naming `doing` on error.
  bool step(const std::string& doing = "running a query");
  void reset();  // for reuse: reset + clear bindings

  int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  bool column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::string column_text(int i) const;
  std::string_view column_blob(int i) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// "\"fs.files\"": a quoted SQL identifier for a collection table or column.
std::string quote_identifier(std::string_view name);

}  // namespace facecrowd
