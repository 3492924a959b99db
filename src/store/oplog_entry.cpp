#include "store/oplog_entry.h"

#include "core/error.h"

namespace facecrowd {

std::string OplogEntry::collection() const {
  auto dot = ns.find('.');
  return dot == std::string::npos ? std::string() : ns.substr(dot + 1);
}

Document encode_oplog_entry(OplogTimestamp ts, char op, std::string_view ns, const bson_t* o) {
  bson_t* entry = bson_sized_new(o->len + 64);
  BSON_APPEND_TIMESTAMP(entry, "ts", ts.secs, ts.inc);
  char op_text[2] = {op, 0};
  BSON_APPEND_UTF8(entry, "op", op_text);
  bson_append_utf8(entry, "ns", 2, ns.data(), int(ns.size()));
  BSON_APPEND_DOCUMENT(entry, "o", o);
  return Document(entry);
}

OplogEntry decode_oplog_entry(const uint8_t* data, size_t size, const std::string& what) {
  Document doc = Document::from_bytes(data, size, what);
  OplogEntry entry;
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc.get(), "ts") || !BSON_ITER_HOLDS_TIMESTAMP(&it))
    throw Error(ExitCode::kBadInput, what + ": oplog entry without a Timestamp 'ts'");
  bson_iter_timestamp(&it, &entry.ts.secs, &entry.ts.inc);
  if (!bson_iter_init_find(&it, doc.get(), "op") || !BSON_ITER_HOLDS_UTF8(&it))
    throw Error(ExitCode::kBadInput, what + ": oplog entry " + entry.ts.to_string() + " without 'op'");
  std::string op = bson_iter_utf8(&it, nullptr);
  if (op.size() != 1 || std::string_view("iudn").find(op[0]) == std::string_view::npos)
    throw Error(ExitCode::kBadInput, what + ": oplog entry " + entry.ts.to_string() + " has unknown op '" + op + "'");
  entry.op = op[0];
  if (!bson_iter_init_find(&it, doc.get(), "ns") || !BSON_ITER_HOLDS_UTF8(&it))
    throw Error(ExitCode::kBadInput, what + ": oplog entry " + entry.ts.to_string() + " without 'ns'");
  entry.ns = bson_iter_utf8(&it, nullptr);
  if (!bson_iter_init_find(&it, doc.get(), "o") || !BSON_ITER_HOLDS_DOCUMENT(&it))
    throw Error(ExitCode::kBadInput, what + ": oplog entry " + entry.ts.to_string() + " without document 'o'");
  uint32_t len;
  const uint8_t* bytes;
  bson_iter_document(&it, &len, &bytes);
  entry.o = Document::from_bytes(bytes, len, what);
  return entry;
}

}  // namespace facecrowd
