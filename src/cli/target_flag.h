// --target, as every command that names a backup target takes it.
//
// An empty value ('' from an unset shell variable in a cron line) is refused, exit 2, before anything is
// read or written. It used to mean "no --target": `verify --target "$T"`, `restore --target "$T"` and
// `backups list --target "$T"` then quietly worked on the local backup directory (a cron check reported the
// local backups as the target's), and `backup`, `oplog ship` and `target take-over` on the configured target.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace facecrowd {

inline CLI::Option* add_target_flag(CLI::App* cmd, std::string& target, const std::string& description) {
  const CLI::Validator given(
      [](std::string& value) {
        // Not "leave --target out": drill record requires it, and elsewhere leaving it out means another thing
        // (the local backups, the configured target), which each command's --help says.
        return value.empty() ? std::string("it is empty (an unset shell variable?): give s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or a "
                                           "directory; nothing was done")
                             : std::string();
      },
      "", "non-empty target");
  return cmd->add_option("--target", target, description)->check(given);
}

}  // namespace facecrowd
