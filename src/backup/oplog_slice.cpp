#include "backup/oplog_slice.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "backup/catalog.h"
#include "backup/slice_integrity.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"
#include "store/document.h"

namespace facecrowd {

OplogSliceWriter::OplogSliceWriter(const std::filesystem::path& dir, OplogTimestamp from, std::string db)
    : dir_(dir), from_(from), db_(std::move(db)) {
  partial_ = dir / ("oplog_slice.partial-" + std::to_string(::getpid()));
  gz_ = gzopen(partial_.c_str(), "wb6");
  if (!gz_) throw_io_error("cannot create oplog slice", partial_, errno ? errno : EIO);
}

OplogSliceWriter::~OplogSliceWriter() {
  if (gz_) {
    gzclose(static_cast<gzFile>(gz_));
    std::error_code ec;
    std::filesystem::remove(partial_, ec);
  }
}

void OplogSliceWriter::add(OplogTimestamp ts, std::string_view entry) {
  if (gzwrite(static_cast<gzFile>(gz_), entry.data(), unsigned(entry.size())) != int(entry.size())) {
    int errnum = 0;
    std::string msg = gzerror(static_cast<gzFile>(gz_), &errnum);
    throw Error(ExitCode::kIo, "cannot write oplog slice '" + partial_.string() + "': " +
                                   (errnum == Z_ERRNO ? std::strerror(errno) : msg));
  }
  if (ts <= from_ || ts <= last_)
    throw Error(ExitCode::kInternal, "oplog slice entries must follow " + from_.to_string() + " in order");
  last_ = ts;
  ++entries_;
}

std::filesystem::path OplogSliceWriter::finish() {
  if (entries_ == 0) throw Error(ExitCode::kInternal, "an oplog slice needs at least one entry");
  int rc = gzclose(static_cast<gzFile>(gz_));
  gz_ = nullptr;
  if (rc != Z_OK) {
    std::error_code ec;
    std::filesystem::remove(partial_, ec);
    throw Error(ExitCode::kIo, "cannot finish oplog slice '" + partial_.string() + "' (disk full?)");
  }
  fsync_path(partial_);
  auto final_path = dir_ / slice_file_name(from_, last_);
  // The record goes first: a slice under its final name always has one (slice_integrity.h).
  SliceRecord record{from_, last_, entries_, 0, "", std::nullopt, db_};
  std::error_code ec;
  record.bytes = std::filesystem::file_size(partial_, ec);
  auto sha = sha256_of_file(partial_);
  if (ec || !sha) throw Error(ExitCode::kIo, "cannot read back oplog slice '" + partial_.string() + "'");
  record.sha256 = *sha;
  for (const auto& s : BackupCatalog(dir_).slices())
    if (s.to == from_) record.previous_sha256 = sha256_of_file(s.path);
  write_slice_record(slice_record_path(final_path), record);
  rename_durably(partial_, final_path);
  return final_path;
}

void read_oplog_slice(const std::filesystem::path& path, const std::function<void(std::string_view)>& fn) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz) throw_io_error("cannot open oplog slice", path, errno ? errno : ENOENT);
  std::string data;
  char buf[1 << 16];
  int n;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) data.append(buf, size_t(n));
  int errnum = 0;
  std::string msg = n < 0 ? gzerror(gz, &errnum) : "";
  gzclose(gz);
  if (n < 0) throw Error(ExitCode::kBadInput, "oplog slice '" + path.string() + "' is corrupt: " + msg);
  BsonStreamReader reader(reinterpret_cast<const uint8_t*>(data.data()), data.size(), "oplog slice '" + path.string() + "'");
  const uint8_t* doc;
  size_t size;
  while (reader.next(&doc, &size)) fn(std::string_view(reinterpret_cast<const char*>(doc), size));
}

}  // namespace facecrowd
