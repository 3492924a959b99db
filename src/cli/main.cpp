// facecrowd: the command-line entry point. Subcommands register themselves (command.h).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "cli/argument_checks.h"
#include "cli/command.h"
#include "core/error.h"

namespace facecrowd {
namespace {
std::vector<CommandSetup>& registry() {
  static std::vector<CommandSetup> setups;
  return setups;
}
std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
}  // namespace

CommandRegistrar::CommandRegistrar(CommandSetup setup) { registry().push_back(std::move(setup)); }

bool show_progress(const GlobalOptions& globals) { return !globals.quiet && ::isatty(STDERR_FILENO); }

}  // namespace facecrowd

int main(int argc, char** argv) {
  using namespace facecrowd;
  // Private by default (issue 15.1): whatever the caller's umask, every file and folder this process
  // creates — SQLite's database, -wal and -shm included, which do not go through core/file_system.h —
  // is 0600/0700. The seam also passes explicit modes; this covers everything else.
  ::umask(077);
  CLI::App app{
      "facecrowd: face recognition, attendance and crowd counting with verifiable backups and\n"
      "point-in-time recovery. Data lives in an embedded database under --data (default ./data);\n"
      "backups go to --backup-dir (default ./backup). Run `facecrowd COMMAND --help` for details.\n\n"
      "Exit codes: 0 ok, 1 warning, 2 usage, 3 bad input, 4 not found, 5 conflict (would overwrite),\n"
      "6 file-system error (disk full, permission), 7 busy (data directory in use), 8 not a facecrowd\n"
      "data directory, 9 damaged data directory (nothing changed; the message says how to recover),\n"
      "10 internal error."};
  app.set_version_flag("--version", std::string("facecrowd ") + FACECROWD_VERSION);
  app.require_subcommand(1);
  GlobalOptions globals;
  globals.data_dir = env_or("FACECROWD_DATA", "data");
  globals.backup_dir = env_or("FACECROWD_BACKUP_DIR", "backup");
  app.add_option("--data", globals.data_dir, "data directory (env FACECROWD_DATA)")->capture_default_str();
  app.add_option("--backup-dir", globals.backup_dir, "backup directory (env FACECROWD_BACKUP_DIR)")->capture_default_str();
  app.add_option("--models", globals.models_dir,
                 "prepared face models (env FACECROWD_MODELS; default ./models; made by tools/prepare_models.sh)");
  app.add_option("--face-model", globals.face_model,
                 "embedding model for every face command and serve: dlib (default; CC0, 128-D) or faceres (opt-in: "
                 "fewer false accepts on unseen people, 2.2x the CPU a face, 1024-D; its origin states no licence, see "
                 "models/MODELS.json). Each model has its own calibrated --threshold/--min-margin defaults, and a "
                 "gallery searches only the embeddings of the selected model (env FACECROWD_FACE_MODEL)");
  app.add_flag("-q,--quiet", globals.quiet, "no progress output");
  for (auto& setup : registry()) setup(app, globals);
  // Commands describe themselves at length; the command list shows only the first sentence, and the
  // rest follows the options in the command's own --help. A sentence ends at a '.' or ':' before a space or
  // a line break: not at a line break inside it, nor at the '.' of a name (it cut "... tests and" and
  // "(made by tools/prepare_models").
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    std::string text = sub->get_description();
    size_t end = std::string::npos;
    for (size_t i = 0; i + 1 < text.size() && end == std::string::npos; ++i)
      if ((text[i] == '.' || text[i] == ':') && (text[i + 1] == ' ' || text[i + 1] == '\n')) end = i;
    if (end == std::string::npos || text.size() - end < 3) continue;
    std::string rest = text.substr(end + 1);
    rest.erase(0, rest.find_first_not_of(" \n"));
    std::string first = text.substr(0, end);
    std::replace(first.begin(), first.end(), '\n', ' ');
    sub->description(first);
    std::string own_footer = sub->get_footer();
    sub->footer("\n" + text.substr(0, end + 1) + " " + rest + (own_footer.empty() ? "" : "\n" + own_footer));
  }
  try {
    check_arguments(argc, argv);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : int(ExitCode::kUsage);
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return int(e.code());
  } catch (const std::exception& e) {
    std::cerr << "error: internal: " << e.what() << "\n";
    return int(ExitCode::kInternal);
  }
  return globals.exit_code;
}
