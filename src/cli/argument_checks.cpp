#include "cli/argument_checks.h"

#include <cstdio>
#include <set>
#include <string>
#include <string_view>

#include "core/display_text.h"
#include "core/error.h"

namespace facecrowd {

void check_arguments(int argc, char** argv) {
  static const std::set<std::string_view> kOneLine = {"--name",     "--external-id", "--session",
                                                      "--location", "--person",      "--profile"};
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    // Which flag the value belongs to: "--flag=value", or "--flag value" (the previous argument).
    std::string flag;
    std::string_view value = arg;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string_view::npos) {
      flag = std::string(arg.substr(0, arg.find('=')));
      value = arg.substr(arg.find('=') + 1);
    } else if (i > 1 && std::string_view(argv[i - 1]).rfind("--", 0) == 0 &&
               std::string_view(argv[i - 1]).find('=') == std::string_view::npos) {
      flag = argv[i - 1];
    }
    std::string where = "argument " + std::to_string(i) + (flag.empty() ? "" : " (the value of " + flag + ")");
    if (auto bad = invalid_utf8_offset(arg)) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(arg[*bad]));
      throw Error(ExitCode::kBadInput,
                  where + " '" + shortened(arg, 80) + "' is not valid UTF-8 (byte " + byte + " at offset " +
                      std::to_string(*bad) + "): facecrowd stores text, file names included, as UTF-8; " +
                      "convert it (e.g. with iconv) or rename the file");
    }
    if (!flag.empty() && kOneLine.count(flag) && has_control_character(value))
      throw Error(ExitCode::kBadInput, where + " '" + shortened(value, 80) +
                                           "' holds a control character (newline, tab, escape, …); " + flag +
                                           " is a one-line identifier printed in tables: remove it");
  }
}

}  // namespace facecrowd
