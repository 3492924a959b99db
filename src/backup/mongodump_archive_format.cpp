#include "backup/mongodump_archive_format.h"

#include <bson/bson.h>

#include <array>
#include <cstring>
#include <map>
#include <optional>

#include "backup/bson_document_framer.h"
#include "core/error.h"

namespace facecrowd {
namespace {

// CRC-64 with the ECMA-182 polynomial, reflected, as Go's hash/crc64 with crc64.ECMA computes it
// (CRC-64/XZ): the checksum the --archive format records for each namespace.
uint64_t crc64_ecma_update(uint64_t crc, const uint8_t* p, size_t n) {
  static const auto table = [] {
    std::array<uint64_t, 256> t{};
    for (uint64_t i = 0; i < 256; ++i) {
      uint64_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xC96C5795D7870F42ULL : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[uint8_t(crc) ^ p[i]] ^ (crc >> 8);
  return ~crc;
}

}  // namespace

bool starts_with_archive_magic(const unsigned char* p, size_t n) {
  if (n < 4) return false;
  uint32_t v = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  return v == kMongodumpArchiveMagic;
}

void read_mongodump_archive(ByteSource& source, const std::string& label, MongoDump& dump, const fs::path& staging) {
  uint64_t offset = 0;
  auto bad = [&](const std::string& why) {
    return Error(ExitCode::kBadInput, "mongodump archive '" + label + "', byte " + std::to_string(offset) + ": " + why);
  };
  // Reads exactly n bytes; false only when the stream ends cleanly before the first byte and `may_end`.
  auto read_exact = [&](char* out, size_t n, bool may_end) {
    size_t got = 0;
    while (got < n) {
      size_t k = source.read(out + got, n - got);
      if (k == 0) {
        if (got == 0 && may_end) return false;
        throw bad("truncated: the stream ends inside a document or marker (an interrupted dump or copy?)");
      }
      got += k;
    }
    offset += n;
    return true;
  };
  std::string doc;
  // The next document, or false at a terminator; `what` names it in errors.
  auto read_document = [&](const std::string& what, bool* ended_stream) -> bool {
    char len_bytes[4];
    if (!read_exact(len_bytes, 4, ended_stream != nullptr)) {
      *ended_stream = true;
      return false;
    }
    uint32_t len;
    std::memcpy(&len, len_bytes, 4);
    len = BSON_UINT32_FROM_LE(len);
    if (len == 0xFFFFFFFFu) return false;
    if (len > kMongoMaxDocumentBytes)
      throw bad(what + " is " + std::to_string(len) + " bytes, over MongoDB's limit of 16 MiB (" +
                std::to_string(kMongoMaxDocumentBytes) + " bytes): corrupt");
    if (len < 5) throw bad(what + " has an impossible length " + std::to_string(len) + " (corrupt)");
    doc.resize(len);
    std::memcpy(doc.data(), len_bytes, 4);
    read_exact(doc.data() + 4, len - 4, false);
    bson_t b;
    size_t err = 0;
    if (!bson_init_static(&b, reinterpret_cast<const uint8_t*>(doc.data()), len) || !bson_validate(&b, BSON_VALIDATE_NONE, &err))
      throw bad(what + " does not decode as BSON (corrupt)");
    return true;
  };
  auto text_of = [&](const char* key) -> std::string {
    bson_t b;
    bson_init_static(&b, reinterpret_cast<const uint8_t*>(doc.data()), doc.size());
    bson_iter_t it;
    if (bson_iter_init_find(&it, &b, key) && BSON_ITER_HOLDS_UTF8(&it)) return bson_iter_utf8(&it, nullptr);
    return "";
  };

  char magic[4];
  read_exact(magic, 4, false);
  if (!starts_with_archive_magic(reinterpret_cast<unsigned char*>(magic), 4)) throw bad("not a mongodump archive (no magic number)");
  if (!read_document("the archive header", nullptr)) throw bad("no archive header");
  if (text_of("version") != "0.1")
    throw bad("archive format version '" + text_of("version") + "' (this facecrowd reads 0.1, what mongodump 3.2 to 100.x write)");

  struct Namespace {
    size_t index = 0;  // into dump.collections
    std::optional<DocumentFramer> framer;
    uint64_t crc = 0;
    bool eof = false;
  };
  std::map<std::string, Namespace> spaces;
  auto space = [&](const std::string& db, const std::string& coll) -> Namespace& {
    std::string key = db + "." + coll;
    auto it = spaces.find(key);
    if (it != spaces.end()) return it->second;
    if (db.empty() || coll.empty() || db.find('/') != std::string::npos || coll.find('/') != std::string::npos)
      throw bad("namespace '" + key + "' is not a database and collection name");
    DumpCollection c;
    c.db = db;
    c.name = coll;
    c.member = key;
    fs::path dir = staging / std::to_string(dump.collections.size());
    fs::create_directory(dir);
    c.staged = dir / "documents.bson";
    Namespace& n = spaces.try_emplace(key).first->second;
    n.index = dump.collections.size();
    n.framer.emplace("mongodump archive '" + label + "', " + key, c.staged);
    dump.collections.push_back(std::move(c));
    return n;
  };
  while (read_document("collection metadata", nullptr)) {
    Namespace& n = space(text_of("db"), text_of("collection"));
    nlohmann::json meta = nlohmann::json::parse(text_of("metadata"), nullptr, false);
    if (!meta.is_discarded() && meta.is_object()) dump.collections[n.index].metadata = meta;
  }
  for (;;) {
    bool ended = false;
    if (!read_document("a namespace header", &ended)) {
      if (ended) break;
      throw bad("a terminator where a namespace header was expected (corrupt)");
    }
    bson_t b;
    bson_init_static(&b, reinterpret_cast<const uint8_t*>(doc.data()), doc.size());
    bson_iter_t it;
    bool eof = bson_iter_init_find(&it, &b, "EOF") && BSON_ITER_HOLDS_BOOL(&it) && bson_iter_bool(&it);
    int64_t crc = 0;
    if (bson_iter_init_find(&it, &b, "CRC") && BSON_ITER_HOLDS_INT64(&it)) crc = bson_iter_int64(&it);
    Namespace& n = space(text_of("db"), text_of("collection"));
    const std::string key = dump.collections[n.index].member;
    if (n.eof) throw bad("namespace " + key + " continues after its end marker (corrupt)");
    if (eof) {
      char term[4];
      read_exact(term, 4, false);
      if (std::memcmp(term, "\xff\xff\xff\xff", 4) != 0) throw bad("no terminator after the end marker of " + key);
      if (uint64_t(crc) != n.crc)
        throw bad("the documents of " + key + " do not match the archive's CRC-64 for them (corrupt or tampered)");
      n.eof = true;
      continue;
    }
    int64_t index = 0;
    while (read_document(key + " document", nullptr)) {
      ++index;
      n.crc = crc64_ecma_update(n.crc, reinterpret_cast<const uint8_t*>(doc.data()), doc.size());
      n.framer->feed(doc.data(), doc.size());
    }
  }
  for (auto& [key, n] : spaces) {
    if (!n.eof) throw bad("truncated: the archive ends before the end marker of " + key);
    n.framer->finish();
    DumpCollection& c = dump.collections[n.index];
    c.bytes = n.framer->bytes();
    c.documents = n.framer->documents();
    dump.databases.insert(c.db);
    dump.bytes += c.bytes;
  }
}

}  // namespace facecrowd
