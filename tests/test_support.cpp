#include "test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

namespace facecrowd {

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("facecrowd-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult run_shell(const std::string& command_line) {
  TempDir tmp;
  std::string cmd = command_line + " >" + (tmp.path() / "out").string() + " 2>" + (tmp.path() / "err").string() + " </dev/null";
  int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(tmp.path() / "out");
  r.err = read_text(tmp.path() / "err");
  return r;
}

CommandResult run_facecrowd(const std::string& args, const std::string& env) {
  return run_shell((env.empty() ? "" : env + " ") + std::string(FACECROWD_BINARY) + " " + args);
}

fs::path shared_data_dir() {
  fs::path p = FACECROWD_SHARED_DATA;
  std::error_code ec;
  return fs::is_directory(p, ec) ? fs::weakly_canonical(p) : fs::path();
}

}  // namespace facecrowd
