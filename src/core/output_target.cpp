#include "core/output_target.h"

#include "core/error.h"
#include "core/input_files.h"

namespace facecrowd {

void require_output_target(const std::filesystem::path& out, const std::string& flag,
                           const std::vector<std::filesystem::path>& inputs, bool overwrite,
                           const std::string& overwrite_hint) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(out, ec);
  if (ec || !fs::exists(status)) return;  // a new file
  std::string named = flag + " '" + out.string() + "'";
  if (!fs::is_regular_file(status))
    throw Error(ExitCode::kConflict, named + " is " + file_kind(out) +
                                         "; facecrowd writes only regular files and will not replace it. Name a file");
  for (const auto& input : inputs) {
    std::error_code eq;
    if (fs::equivalent(out, input, eq))
      throw Error(ExitCode::kConflict, named + " is the input '" + input.string() +
                                           "'; refusing to overwrite it. Name a new file for the output");
  }
  if (!overwrite)
    throw Error(ExitCode::kConflict, named + " already exists; nothing was written. " +
                                         (overwrite_hint.empty() ? "Name a new file" : overwrite_hint));
}

}  // namespace facecrowd
