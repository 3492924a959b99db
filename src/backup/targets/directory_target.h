// A backup target that is a local (or mounted) directory: key "a/b" is the file <dir>/a/b. The sha256
// of each object is kept beside it as "<file>.sha256" (written before the rename, so an object never
// appears without it); stat() and list() read those, and objects copied in by hand without one report
// an empty sha256.
#pragma once

#include <functional>

#include "backup/targets/backup_target.h"

namespace facecrowd {

class DirectoryTarget : public BackupTarget {
 public:
  explicit DirectoryTarget(fs::path dir) : dir_(std::move(dir)) {}
  std::string url() const override { return dir_.string(); }
  using BackupTarget::get;
  using BackupTarget::put;
  ObjectInfo put(const std::string& key, const fs::path& file, const std::string& known_sha256) override;
  ObjectInfo put(const std::string& key, const UploadSource& source) override;
  ObjectInfo get(const std::string& key, const fs::path& file, const ExpectedDigests& expected) override;
  std::vector<ObjectInfo> list(const std::string& prefix) override;
  void remove(const std::string& key) override;
  std::optional<ObjectInfo> stat(const std::string& key) override;
  // A push killed while it copied an object leaves `<object>.partial-<pid>` (as large as the archive) that
  // nothing lists or removes: those of a pid that no longer runs here are deleted, a line each. No journal
  // is needed (set_upload_journal is ignored): the name says whose the file is.
  std::vector<std::string> abort_interrupted_uploads() override;

 private:
  fs::path path_of(const std::string& key) const;
  fs::path dir_;
};

// Copies `from` to `to` through "<to>.partial-<pid>" (fsynced, renamed, directory fsynced), computing the
// sha256 (and, when `md5` is set, the MD5) of the bytes as they pass. `before_rename`, when set, is given the
// digests before the rename and may throw to refuse the copy: nothing then appears at `to`, and a file
// already there stays as it was. Error(kIo) naming `what` on a read or write failure (disk full); no file
// is left at the partial name on any failure. Returns the digests.
struct CopiedDigests {
  std::string sha256, md5;  // hex; md5 empty unless asked for
};
CopiedDigests copy_file_durably(const fs::path& from, const fs::path& to, const std::string& what, bool md5 = false,
                                const std::function<void(const CopiedDigests&)>& before_rename = {});

}  // namespace facecrowd
