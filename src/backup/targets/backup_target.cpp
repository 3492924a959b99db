#include "backup/targets/backup_target.h"

#include "backup/targets/directory_target.h"
#include "backup/targets/s3_target.h"
#include "core/display_text.h"
#include "core/error.h"

namespace facecrowd {

std::unique_ptr<BackupTarget> open_backup_target(const std::string& name) {
  if (name.empty()) throw Error(ExitCode::kUsage, "the backup target is empty: give s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or a directory");
  if (is_remote_target_name(name)) {
    auto location = parse_bucket_location(name);
    return std::make_unique<S3Target>(location, load_s3_settings(location));
  }
  if (name.find("://") != std::string::npos) {
    // file:// is the one other scheme people reach for: say how a directory is given.
    const std::string hint = name.starts_with("file://") ? "; a directory target is given as its path: " + shortened(name.substr(7)) : "";
    throw Error(ExitCode::kUsage, "backup target '" + shortened(name) + "': only s3:// and gs:// targets (or a directory) are supported" + hint);
  }
  return std::make_unique<DirectoryTarget>(name);
}

void throw_changed_since_recorded(const fs::path& file, const std::string& recorded, const std::string& read,
                                  const std::string& where) {
  throw Error(ExitCode::kBadInput, "file '" + file.string() + "' was not uploaded to " + where +
                                       ": it changed or is damaged since its sha256 was recorded when it was written (recorded " +
                                       recorded + ", read " + read + "); nothing was stored. Check the disk, then make a new backup");
}

}  // namespace facecrowd
