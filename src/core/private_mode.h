// Is a data or backup directory private? facecrowd holds biometric data (face embeddings, facial images,
// group photos) and password hashes, so its folders must be 0700 and its files 0600 (issue 15.1), as
// PostgreSQL insists on for its data directory. What facecrowd creates is private by construction
// (umask 077 at process start, explicit modes in core/file_system.h); this module finds what is not —
// folders made by hand or by an older version, files copied in with `cp`.
//
// Who calls it:
//   - `backups status` (backup/backup_status.h): a "permissions" check, WARNING naming the paths and the
//     chmod that fixes them;
//   - `serve` (the HTTP service) at start: require_private_paths({data, backup}, allow_option_set,
//     "<the config option's name>") refuses to start on an exposed directory unless the operator set the
//     option explicitly. The option is the operator's written decision to run with shared permissions
//     (e.g. a backup directory read by a separate uploader group); without it, start fails.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace facecrowd {

struct ExposedPath {
  std::filesystem::path path;
  mode_t mode = 0;      // the permission bits (e.g. 0755)
  bool is_dir = false;
  // "chmod 700 '<path>'" for a folder, "chmod 600 '<path>'" for a file (keeping an owner x bit: 700).
  std::string fix() const;
};

// Every path at or under each of `roots` (the root itself included; symbolic links are not followed, and
// a root that does not exist is skipped) whose mode grants group or others any access (mode & 077),
// in walk order, at most `limit` of them. Unreadable folders are reported by their own mode and not
// entered. Never throws for a path that vanishes during the walk.
std::vector<ExposedPath> find_exposed_paths(const std::vector<std::filesystem::path>& roots, size_t limit = 1000);

// One line for an operator: "'<root>' is readable by other users: '<p1>' (0755), '<p2>' (0644) and 12
// more; fix: chmod -R go-rwx '<root>'" per root with findings; "" when there are none.
std::string describe_exposed_paths(const std::vector<std::filesystem::path>& roots,
                                   const std::vector<ExposedPath>& exposed);

// For `serve` at start: returns when every path under `roots` is private or `allow_exposed` is true
// (the operator set `allow_option` explicitly); otherwise throws Error(kIo) with describe_exposed_paths()
// and "refusing to start; fix the modes, or set <allow_option> to run anyway".
void require_private_paths(const std::vector<std::filesystem::path>& roots, bool allow_exposed,
                           const std::string& allow_option);

}  // namespace facecrowd
