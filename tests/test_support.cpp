#include "test_support.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

namespace facecrowd {
namespace {
// The test process creates files the way facecrowd does (main() sets umask 077), so fixtures written by
// tests are private like the real thing and `backups status` judges them as it would judge facecrowd's.
const bool kPrivateUmask = (::umask(077), true);
}  // namespace

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

std::string huge_png(uint32_t w, uint32_t h) {
  auto be32 = [](uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; };
  auto chunk = [&](const std::string& type, const std::string& data) {
    std::string td = type + data;
    uLong crc = crc32(0, reinterpret_cast<const Bytef*>(td.data()), uInt(td.size()));
    return be32(uint32_t(data.size())) + td + be32(uint32_t(crc));
  };
  std::string ihdr = be32(w) + be32(h) + std::string{1, 0, 0, 0, 0};  // depth 1, grey
  z_stream z{};
  deflateInit(&z, Z_BEST_SPEED);
  std::string row(1 + (w + 7) / 8, '\0'), idat;
  std::vector<unsigned char> out(1 << 16);
  for (uint32_t y = 0; y <= h; ++y) {
    bool last = y == h;
    z.next_in = reinterpret_cast<Bytef*>(last ? nullptr : row.data());
    z.avail_in = last ? 0 : uInt(row.size());
    do {
      z.next_out = out.data();
      z.avail_out = uInt(out.size());
      deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
      idat.append(reinterpret_cast<char*>(out.data()), out.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return std::string("\x89PNG\r\n\x1A\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", "");
}


std::vector<float> random_unit_vector(std::mt19937& rng, size_t size) {
  std::normal_distribution<float> normal;
  std::vector<float> v(size);
  double norm = 0;
  for (float& x : v) {
    x = normal(rng);
    norm += double(x) * x;
  }
  for (float& x : v) x = float(x / std::sqrt(norm));
  return v;
}

TmpfsMount::TmpfsMount(fs::path dir, const std::string& options) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
  ok_ = ::geteuid() == 0 && run_shell("mount -t tmpfs -o " + options + " tmpfs '" + dir_.string() + "'").exit_code == 0;
}

TmpfsMount::~TmpfsMount() {
  if (ok_) run_shell("umount '" + dir_.string() + "'");
}

}  // namespace facecrowd
