#include "backup/targets/backup_target.h"

#include <cctype>

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
  // s3:/bucket/p, s3:bucket/p, S3://bucket/p: a URL mistyped, not a folder to write the backups into (it
  // became '<cwd>/s3:/bucket/p', and every backup went there without a word).
  std::string lower = name.substr(0, 3);
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "s3:" || lower == "gs:")
    throw Error(ExitCode::kUsage, "backup target '" + shortened(name) + "' is not a bucket: write s3://BUCKET/PREFIX or "
                                      "gs://BUCKET/PREFIX (lower case, two slashes); a directory whose name starts with '" +
                                      name.substr(0, 3) + "' is given as ./" + shortened(name));
  if (name.find("://") != std::string::npos) {
    // file:// is the one other scheme people reach for: say how a directory is given.
    const std::string hint = name.starts_with("file://") ? "; a directory target is given as its path: " + shortened(name.substr(7)) : "";
    throw Error(ExitCode::kUsage, "backup target '" + shortened(name) + "': only s3:// and gs:// targets (or a directory) are supported" + hint);
  }
  return std::make_unique<DirectoryTarget>(normal_directory_target(name));
}

std::string normal_directory_target(const std::string& name) {
  fs::path dir = fs::absolute(name).lexically_normal();
  if (!dir.has_filename() && dir != dir.root_path()) dir = dir.parent_path();  // "/mnt/offsite/" -> "/mnt/offsite"
  return dir.string();
}

void throw_changed_since_recorded(const fs::path& file, const std::string& recorded, const std::string& read,
                                  const std::string& where) {
  throw Error(ExitCode::kBadInput, "file '" + file.string() + "' was not uploaded to " + where +
                                       ": it changed or is damaged since its sha256 was recorded when it was written (recorded " +
                                       recorded + ", read " + read + "); nothing was stored. Check the disk, then make a new backup");
}

}  // namespace facecrowd
