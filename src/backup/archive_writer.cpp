#include "backup/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstring>

#include "core/error.h"

namespace facecrowd {
namespace {

constexpr size_t kBufferBytes = 1 << 20;       // member bytes handed to libarchive at once
constexpr int kOutputBlockBytes = 1 << 20;      // compressed bytes handed to the file at once

}  // namespace

ArchiveWriter::ArchiveWriter(const std::filesystem::path& path, UnixMillis mtime)
    : file_(path), mtime_(mtime), buffer_(kBufferBytes) {
  archive_ = archive_write_new();
  if (!archive_) throw Error(ExitCode::kInternal, "cannot allocate an archive writer for '" + path.string() + "'");
  if (archive_write_set_format_pax_restricted(archive_) != ARCHIVE_OK ||
      archive_write_add_filter_gzip(archive_) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(archive_, kOutputBlockBytes) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(archive_, 1) != ARCHIVE_OK)
    fail("setting up");
  if (archive_write_open2(archive_, this, nullptr, &ArchiveWriter::on_write, nullptr, nullptr) != ARCHIVE_OK)
    fail("opening");
}

ArchiveWriter::~ArchiveWriter() {
  // An unfinished archive is abandoned. archive_write_free() closes first, which would append a tar
  // trailer and a gzip footer; refusing those writes keeps an abandoned file visibly truncated.
  abandoned_ = true;
  if (archive_) archive_write_free(archive_);
}

long ArchiveWriter::on_write(struct archive* a, void* self, const void* buffer, size_t length) {
  auto* w = static_cast<ArchiveWriter*>(self);
  if (w->abandoned_) return -1;
  try {
    w->file_.write(buffer, length);
    w->file_hash_.update(buffer, length);
    return long(length);
  } catch (...) {
    // Exceptions must not unwind through libarchive's C frames: keep it, report failure, rethrow later.
    w->write_error_ = std::current_exception();
    archive_set_error(a, EIO, "write failed");
    return -1;
  }
}

void ArchiveWriter::fail(const std::string& doing) {
  if (write_error_) std::rethrow_exception(write_error_);
  const char* why = archive_ ? archive_error_string(archive_) : nullptr;
  throw Error(ExitCode::kIo, doing + " archive '" + file_.path().string() + "': " + (why ? why : "unknown error"));
}

void ArchiveWriter::begin_member(const std::string& member_path, uint64_t size) {
  if (in_member_)
    throw Error(ExitCode::kInternal, "archive member '" + member_path_ + "' not ended before '" + member_path + "'");
  archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, member_path.c_str());
  archive_entry_set_size(entry, la_int64_t(size));
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_perm(entry, 0600);  // private when extracted with tar (issue 15.1)
  archive_entry_set_mtime(entry, time_t(mtime_ / 1000), 0);
  archive_entry_set_uid(entry, 0);
  archive_entry_set_gid(entry, 0);
  int rc = archive_write_header(archive_, entry);
  archive_entry_free(entry);
  if (rc != ARCHIVE_OK) fail("writing member header '" + member_path + "' to");
  in_member_ = true;
  member_path_ = member_path;
  member_size_ = size;
  member_written_ = 0;
  member_hash_ = std::make_unique<Sha256>();
}

void ArchiveWriter::write(const void* data, size_t size) {
  if (!in_member_) throw Error(ExitCode::kInternal, "archive write outside a member of '" + path().string() + "'");
  if (member_written_ + size > member_size_)
    throw Error(ExitCode::kInternal, "archive member '" + member_path_ + "' got more than its declared " +
                                         std::to_string(member_size_) + " bytes (data changed while read?)");
  member_written_ += size;
  input_bytes_ += size;
  const char* p = static_cast<const char*>(data);
  if (buffered_ + size > buffer_.size()) flush_buffer();
  if (size >= buffer_.size()) {  // large pieces skip the copy
    member_hash_->update(p, size);
    pass_to_archive(p, size);
    return;
  }
  std::memcpy(buffer_.data() + buffered_, p, size);
  buffered_ += size;
}

void ArchiveWriter::flush_buffer() {
  if (buffered_ == 0) return;
  member_hash_->update(buffer_.data(), buffered_);  // one large update hashes faster than many small ones
  pass_to_archive(buffer_.data(), buffered_);
  buffered_ = 0;
}

void ArchiveWriter::pass_to_archive(const char* data, size_t size) {
  while (size > 0) {
    la_ssize_t n = archive_write_data(archive_, data, size);
    if (n <= 0) fail("writing member '" + member_path_ + "' to");
    data += n;
    size -= size_t(n);
  }
}

ManifestFile ArchiveWriter::end_member(int64_t documents) {
  if (!in_member_) throw Error(ExitCode::kInternal, "no archive member to end in '" + path().string() + "'");
  flush_buffer();
  if (member_written_ != member_size_)
    throw Error(ExitCode::kInternal, "archive member '" + member_path_ + "' got " + std::to_string(member_written_) +
                                         " bytes, declared " + std::to_string(member_size_));
  if (archive_write_finish_entry(archive_) != ARCHIVE_OK) fail("ending member '" + member_path_ + "' of");
  in_member_ = false;
  ManifestFile out{member_path_, member_hash_->hex_digest(), member_size_, documents};
  member_hash_.reset();
  return out;
}

ManifestFile ArchiveWriter::add_member(const std::string& member_path, std::string_view content, int64_t documents) {
  begin_member(member_path, content.size());
  write(content);
  return end_member(documents);
}

void ArchiveWriter::finish() {
  if (in_member_) throw Error(ExitCode::kInternal, "archive member '" + member_path_ + "' not ended");
  if (archive_write_close(archive_) != ARCHIVE_OK) fail("finishing");
  archive_write_free(archive_);
  archive_ = nullptr;
  file_.sync_and_close();
}

std::vector<ManifestFile> write_archive(const std::filesystem::path& path, const std::vector<ArchiveMember>& members,
                                        UnixMillis mtime) {
  ArchiveWriter writer(path, mtime);
  std::vector<ManifestFile> out;
  for (const auto& m : members) out.push_back(writer.add_member(m.path, m.content));
  writer.finish();
  return out;
}

}  // namespace facecrowd
