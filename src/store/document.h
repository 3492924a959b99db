// A BSON document (libbson), owned. The store keeps documents as BSON bytes, the archive holds them as
// BSON, and app/ builds them from MongoDB Extended JSON ({"$oid": …}, {"$date": …}) via nlohmann::json.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace facecrowd {

class Document {
 public:
  Document();                                  // an empty document
  explicit Document(bson_t* owned);            // takes ownership of a heap bson_t (bson_new…)
  Document(const Document& other);
  Document(Document&& other) noexcept;
  Document& operator=(Document other) noexcept;
  ~Document();

  // Extended JSON (canonical or relaxed). Throws Error(kBadInput) naming `what` when malformed.
  static Document from_json(const nlohmann::json& json, const std::string& what = "document");
  static Document from_json_text(std::string_view text, const std::string& what = "document");
  // Copies and validates raw BSON bytes. Throws Error(kBadInput) naming `what` when they do not decode.
  static Document from_bytes(const uint8_t* data, size_t size, const std::string& what = "document");

  nlohmann::json to_json() const;              // relaxed Extended JSON, as mongoexport writes it
  std::string to_json_text() const;            // same, as one line

  const bson_t* get() const { return bson_; }
  bson_t* get() { return bson_; }
  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(bson_get_data(bson_)), bson_->len};
  }

  // The `_id` as the store's key text: ObjectId as 24 hex characters, a string as itself, an integer
  // in decimal. nullopt when there is no `_id`; Error(kBadInput) for other `_id` types.
  std::optional<std::string> id_key() const;
  // Prepends a new ObjectId `_id` when the document has none; returns the key text.
  std::string ensure_id();

 private:
  bson_t* bson_;
};

// Key text of an `_id` element (see Document::id_key).
std::string id_key_of(const bson_iter_t& id_iter);

// Walks BSON bytes that hold one document after another (a .bson file). Stops at the end; throws
// Error(kBadInput) naming `what` and the byte offset when a document is truncated or does not decode.
class BsonStreamReader {
 public:
  BsonStreamReader(const uint8_t* data, size_t size, std::string what);
  // Next document's bytes, or false at a clean end.
  bool next(const uint8_t** doc, size_t* size);
  size_t offset() const { return offset_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
  std::string what_;
};

}  // namespace facecrowd
