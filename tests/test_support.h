// Helpers shared by tests: temporary directories, running the real binary, reading shared data.
#pragma once

#include <array>
#include <vector>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

namespace facecrowd {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR, removed (recursively) at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_text(const fs::path& path, const std::string& text);
std::string read_text(const fs::path& path);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the facecrowd binary with `args` (a shell-quoted string) and optional extra environment
// assignments prefixed (e.g. "FACECROWD_DATA=/x").
CommandResult run_facecrowd(const std::string& args, const std::string& env = "");
// Runs a shell command line.
CommandResult run_shell(const std::string& command_line);

// A real, valid 1-bit grey PNG of w x h pixels, all black: tiny on disk, huge decoded (megapixel limits).
std::string huge_png(uint32_t w, uint32_t h);

// A tmpfs mounted on `dir` for the object's lifetime, e.g. "size=64k" to fill a disk (needs root; ok() is
// false otherwise, and the test should skip).
class TmpfsMount {
 public:
  TmpfsMount(fs::path dir, const std::string& options);
  ~TmpfsMount();
  bool ok() const { return ok_; }

 private:
  fs::path dir_;
  bool ok_ = false;
};

// A random direction in 128-D (Gaussian components, normalised): a synthetic face embedding.
std::vector<float> random_unit_vector(std::mt19937& rng, size_t size = 128);  // 128: dlib's size

// ../shared/data, or empty when absent (tests then GTEST_SKIP with a message).
fs::path shared_data_dir();

}  // namespace facecrowd
