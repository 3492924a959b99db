// Where a command may write a file the operator named (--out, --annotate, --density-map), checked before
// any work is done, so a refusal leaves everything as it was (exit 5, the code for "would overwrite"):
//  - never over something that is not a regular file (a device node such as /dev/sda, a FIFO, a socket):
//    a durable write renames a new file over the name and would replace the node itself;
//  - never over one of the command's own inputs (`recognize --annotate X.jpg X.jpg`), compared by inode,
//    so another spelling of the same path (./X.jpg, a link) is caught too;
//  - over an existing regular file only when the command allows it (`overwrite`, e.g. export --force).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace facecrowd {

void require_output_target(const std::filesystem::path& out, const std::string& flag,
                           const std::vector<std::filesystem::path>& inputs, bool overwrite,
                           const std::string& overwrite_hint = "");

}  // namespace facecrowd
