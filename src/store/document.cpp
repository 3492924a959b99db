#include "store/document.h"

#include <cstring>

#include "core/error.h"

namespace facecrowd {

Document::Document() : bson_(bson_new()) {}
Document::Document(bson_t* owned) : bson_(owned) {}
Document::Document(const Document& other) : bson_(bson_copy(other.bson_)) {}
Document::Document(Document&& other) noexcept : bson_(other.bson_) { other.bson_ = nullptr; }
Document& Document::operator=(Document other) noexcept {
  std::swap(bson_, other.bson_);
  return *this;
}
Document::~Document() {
  if (bson_) bson_destroy(bson_);
}

Document Document::from_json_text(std::string_view text, const std::string& what) {
  bson_error_t error;
  bson_t* b = bson_new_from_json(reinterpret_cast<const uint8_t*>(text.data()), ssize_t(text.size()), &error);
  if (!b) throw Error(ExitCode::kBadInput, what + " is not valid Extended JSON: " + error.message);
  return Document(b);
}

Document Document::from_json(const nlohmann::json& json, const std::string& what) {
  if (!json.is_object()) throw Error(ExitCode::kBadInput, what + " must be a JSON object");
  return from_json_text(json.dump(), what);
}

Document Document::from_bytes(const uint8_t* data, size_t size, const std::string& what) {
  bson_t* b = bson_new_from_data(data, size);
  size_t bad_offset = 0;
  if (!b || !bson_validate(b, BSON_VALIDATE_UTF8_ALLOW_NULL, &bad_offset)) {
    if (b) bson_destroy(b);
    throw Error(ExitCode::kBadInput,
                what + " does not decode as BSON" + (b ? " (bad field at byte " + std::to_string(bad_offset) + ")" : ""));
  }
  return Document(b);
}

std::string Document::to_json_text() const {
  size_t len = 0;
  char* text = bson_as_relaxed_extended_json(bson_, &len);
  if (!text) throw Error(ExitCode::kBadInput, "document cannot be written as Extended JSON");
  std::string out(text, len);
  bson_free(text);
  return out;
}

nlohmann::json Document::to_json() const { return nlohmann::json::parse(to_json_text()); }

std::string id_key_of(const bson_iter_t& id_iter) {
  switch (bson_iter_type(&id_iter)) {
    case BSON_TYPE_OID: {
      char hex[25];
      bson_oid_to_string(bson_iter_oid(&id_iter), hex);
      return hex;
    }
    case BSON_TYPE_UTF8: {
      uint32_t len = 0;
      const char* s = bson_iter_utf8(&id_iter, &len);
      return std::string(s, len);
    }
    case BSON_TYPE_INT32: return std::to_string(bson_iter_int32(&id_iter));
    case BSON_TYPE_INT64: return std::to_string(bson_iter_int64(&id_iter));
    default:
      throw Error(ExitCode::kBadInput, "unsupported _id type " + std::to_string(int(bson_iter_type(&id_iter))));
  }
}

std::optional<std::string> Document::id_key() const {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, bson_, "_id")) return std::nullopt;
  return id_key_of(it);
}

std::string Document::ensure_id() {
  if (auto key = id_key()) return *key;
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  bson_t* with_id = bson_sized_new(bson_->len + 20);
  BSON_APPEND_OID(with_id, "_id", &oid);
  bson_concat(with_id, bson_);
  bson_destroy(bson_);
  bson_ = with_id;
  char hex[25];
  bson_oid_to_string(&oid, hex);
  return hex;
}

BsonStreamReader::BsonStreamReader(const uint8_t* data, size_t size, std::string what)
    : data_(data), size_(size), what_(std::move(what)) {}

bool BsonStreamReader::next(const uint8_t** doc, size_t* size) {
  if (offset_ == size_) return false;
  if (size_ - offset_ < 5)
    throw Error(ExitCode::kBadInput, what_ + ": truncated document at byte " + std::to_string(offset_));
  int32_t len;
  std::memcpy(&len, data_ + offset_, 4);
  len = BSON_UINT32_FROM_LE(len);
  if (len < 5 || size_t(len) > size_ - offset_)
    throw Error(ExitCode::kBadInput, what_ + ": truncated or corrupt document at byte " + std::to_string(offset_));
  *doc = data_ + offset_;
  *size = size_t(len);
  offset_ += size_t(len);
  return true;
}

}  // namespace facecrowd
