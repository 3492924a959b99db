// Splits back-to-back BSON documents that arrive in chunks of any size (a .bson member streamed out of a
// tar, a gunzipped stream, the namespace segments of a `mongodump --archive`), checks each one's length
// (5 bytes to MongoDB's 16 MiB) and that it decodes, and appends it to a staged file. Errors are
// Error(kBadInput) naming `what`, the document's number and byte offset; finish() refuses a stream that
// ends inside a document (truncated) and makes the staged file durable.
#pragma once

#include <bson/bson.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "backup/mongodump_reader.h"
#include "core/error.h"
#include "core/files.h"

namespace facecrowd {

// Splits back-to-back BSON documents arriving in arbitrary chunks, checks each one's length and decoding,
// and writes them to the staged file.
class DocumentFramer {
 public:
  DocumentFramer(std::string what, const fs::path& out) : what_(std::move(what)), out_(out) {}

  void feed(const char* data, size_t size) {
    pending_.append(data, size);
    size_t pos = 0;
    while (pending_.size() - pos >= 4) {
      uint32_t len;
      std::memcpy(&len, pending_.data() + pos, 4);
      len = BSON_UINT32_FROM_LE(len);
      if (len > kMongoMaxDocumentBytes)
        throw Error(ExitCode::kBadInput,
                    what_ + ": document #" + std::to_string(documents_ + 1) + " at byte " + std::to_string(offset_ + pos) +
                        " is " + std::to_string(len) + " bytes, over MongoDB's limit of 16 MiB (" +
                        std::to_string(kMongoMaxDocumentBytes) + " bytes): no mongodump writes that; the file is corrupt");
      if (len < 5)
        throw Error(ExitCode::kBadInput, what_ + ": document #" + std::to_string(documents_ + 1) + " at byte " +
                                             std::to_string(offset_ + pos) + " has an impossible length " +
                                             std::to_string(len) + " (corrupt)");
      if (pending_.size() - pos < len) break;
      const auto* doc = reinterpret_cast<const uint8_t*>(pending_.data() + pos);
      bson_t b;
      size_t bad_offset = 0;
      if (!bson_init_static(&b, doc, len) || !bson_validate(&b, BSON_VALIDATE_NONE, &bad_offset))
        throw Error(ExitCode::kBadInput, what_ + ": document #" + std::to_string(documents_ + 1) + " at byte " +
                                             std::to_string(offset_ + pos) + " does not decode as BSON (corrupt)");
      ++documents_;
      out_.write(doc, len);
      pos += len;
    }
    pending_.erase(0, pos);
    offset_ += pos;
  }

  void finish() {
    if (!pending_.empty()) {
      uint32_t len = 0;
      if (pending_.size() >= 4) std::memcpy(&len, pending_.data(), 4);
      throw Error(ExitCode::kBadInput,
                  what_ + ": truncated: document #" + std::to_string(documents_ + 1) + " at byte " +
                      std::to_string(offset_) + (pending_.size() >= 4 ? " declares " + std::to_string(BSON_UINT32_FROM_LE(len)) + " bytes but" : "") +
                      " only " + std::to_string(pending_.size()) + " bytes remain (an incomplete copy or an interrupted dump?)");
    }
    out_.sync_and_close();
  }
  int64_t documents() const { return documents_; }
  uint64_t bytes() const { return offset_; }

 private:
  std::string what_;
  OutputFile out_;
  std::string pending_;
  uint64_t offset_ = 0;
  int64_t documents_ = 0;
};

}  // namespace facecrowd
