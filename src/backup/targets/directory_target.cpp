#include "backup/targets/directory_target.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <regex>
#include <cerrno>
#include <vector>

#include "core/display_text.h"
#include "core/error.h"
#include "core/files.h"
#include "core/leftover_owner.h"
#include "core/sha256.h"

namespace facecrowd {
namespace {

constexpr const char* kShaSuffix = ".sha256";

void require_safe_key(const std::string& key, const std::string& target) {
  bool bad = key.empty() || key.front() == '/' || key.find('\0') != std::string::npos;
  for (const auto& part : fs::path(key)) bad = bad || part == ".." || part == ".";
  if (bad) throw Error(ExitCode::kUsage, "object name '" + key + "' is not a relative name inside target '" + target + "'");
}

}  // namespace

CopiedDigests copy_file_durably(const fs::path& from, const fs::path& to, const std::string& what, bool md5,
                                const std::function<void(const CopiedDigests&)>& before_rename) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw_io_error("cannot open " + what + " source", from, errno);
  fs::path partial = to;
  partial += ".partial-" + std::to_string(::getpid());
  Sha256 sha;
  std::optional<Md5> md5_of;
  if (md5) md5_of.emplace();
  CopiedDigests digests;
  try {
    OutputFile out(partial);
    std::vector<char> buf(1 << 20);
    for (;;) {
      ssize_t n = ::read(in, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_io_error("cannot read " + what + " source", from, errno);
      if (n == 0) break;
      sha.update(buf.data(), size_t(n));
      if (md5_of) md5_of->update(buf.data(), size_t(n));
      out.write(buf.data(), size_t(n));
    }
    out.sync_and_close();
    ::close(in);
    in = -1;
    digests = {sha.hex_digest(), md5_of ? md5_of->hex_digest() : ""};
    if (before_rename) before_rename(digests);
    rename_durably(partial, to);
  } catch (...) {
    if (in >= 0) ::close(in);
    std::error_code ec;
    fs::remove(partial, ec);
    throw;
  }
  return digests;
}

fs::path DirectoryTarget::path_of(const std::string& key) const {
  require_safe_key(key, url());
  return dir_ / key;
}

ObjectInfo DirectoryTarget::put(const std::string& key, const fs::path& file, const std::string& known_sha256) {
  fs::path to = path_of(key);
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) throw_io_error("cannot create folder in backup target", to.parent_path(), ec.value());
  auto sha = known_sha256.empty() ? sha256_of_file(file) : std::optional<std::string>(known_sha256);
  if (!sha) throw_io_error("cannot read file to upload", file, errno ? errno : EIO);
  fs::path sidecar = to;
  sidecar += kShaSuffix;
  write_file_durably(sidecar, *sha);
  std::string copied = copy_file_durably(file, to, "upload to '" + url() + "'").sha256;
  if (copied != *sha) {
    fs::remove(to, ec);
    fs::remove(sidecar, ec);
    if (!known_sha256.empty()) throw_changed_since_recorded(file, known_sha256, copied, "'" + url() + "'");
    throw Error(ExitCode::kIo, "file '" + file.string() + "' changed while it was copied to '" + to.string() + "'");
  }
  std::error_code size_ec;
  return {key, fs::file_size(to, size_ec), copied};
}

ObjectInfo DirectoryTarget::put(const std::string& key, const UploadSource& source) {
  fs::path to = path_of(key);
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) throw_io_error("cannot create folder in backup target", to.parent_path(), ec.value());
  fs::path partial = to;
  partial += ".partial-" + std::to_string(::getpid());
  fs::path sidecar = to;
  sidecar += kShaSuffix;
  std::string written;
  try {
    Sha256 sha;
    {
      OutputFile out(partial);
      auto reader = source.open();
      std::vector<char> buf(1 << 20);
      for (uint64_t done = 0; done < source.size();) {
        size_t n = size_t(std::min<uint64_t>(buf.size(), source.size() - done));
        reader->read(buf.data(), n);
        sha.update(buf.data(), n);
        out.write(buf.data(), n);
        done += n;
      }
      out.sync_and_close();
    }
    // The sha256 of the bytes just written, known only now (the source makes them as they are written).
    written = sha.hex_digest();
    write_file_durably(sidecar, written);
    rename_durably(partial, to);
  } catch (...) {
    fs::remove(partial, ec);
    if (!fs::exists(to, ec)) fs::remove(sidecar, ec);
    throw;
  }
  return {key, source.size(), written};
}

ObjectInfo DirectoryTarget::get(const std::string& key, const fs::path& file, const ExpectedDigests& expected) {
  fs::path from = path_of(key);
  std::error_code ec;
  if (!fs::is_regular_file(from, ec))
    throw Error(ExitCode::kNotFound, "object '" + key + "' not found in backup target '" + url() + "'");
  auto recorded = stat(key);
  auto refuse = [&](const char* digest, const std::string& got, const std::string& was) {
    throw Error(ExitCode::kBadInput, "object '" + key + "' in backup target '" + url() + "' is damaged: its " + digest + " is " + got +
                                         " but " + shortened(was, 80) + " was recorded when it was uploaded");  // the sidecar is the target's: escaped
  };
  // Checked before the copy is renamed to `file`: a damaged object never appears there.
  auto copied = copy_file_durably(from, file, "download of '" + key + "' from '" + url() + "'", !expected.md5.empty(),
                                  [&](const CopiedDigests& got) {
                                    for (const std::string& was : {recorded ? recorded->sha256 : std::string(), expected.sha256})
                                      if (!was.empty() && was != got.sha256) refuse("sha256", got.sha256, was);
                                    if (!expected.md5.empty() && expected.md5 != got.md5) refuse("MD5", got.md5, expected.md5);
                                  });
  return {key, fs::file_size(file, ec), copied.sha256, "", copied.md5};
}

std::vector<ObjectInfo> DirectoryTarget::list(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string key = fs::relative(it->path(), dir_).generic_string();
    if (key.rfind(prefix, 0) != 0) continue;
    if (key.ends_with(kShaSuffix) || key.find(".partial-") != std::string::npos) continue;
    if (auto info = stat(key)) out.push_back(*info);
  }
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

void DirectoryTarget::remove(const std::string& key) {
  fs::path p = path_of(key);
  std::error_code ec;
  fs::remove(p, ec);
  if (ec) throw_io_error("cannot delete object from backup target", p, ec.value());
  fs::path sidecar = p;
  sidecar += kShaSuffix;
  fs::remove(sidecar, ec);
}

std::vector<std::string> DirectoryTarget::abort_interrupted_uploads() {
  static const std::regex partial_re(R"(.+\.partial-(\d{1,9}))");
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 1) it.disable_recursion_pending();  // the layout is <dir>/<folder>/<object>
    std::smatch m;
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file(ec) || !std::regex_match(name, m, partial_re)) continue;
    if (!process_is_gone(pid_from_digits(m[1]))) continue;  // still running (or not ours to judge)
    std::error_code rm;
    if (fs::remove(it->path(), rm))
      lines.push_back("removed '" + it->path().string() + "', the partial copy of an interrupted push (process " + m[1].str() +
                      " no longer runs)");
  }
  return lines;
}

std::optional<ObjectInfo> DirectoryTarget::stat(const std::string& key) {
  fs::path p = path_of(key);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  ObjectInfo info{key, fs::file_size(p, ec), ""};
  fs::path sidecar = p;
  sidecar += kShaSuffix;
  if (fs::exists(sidecar, ec)) {
    try {
      info.sha256 = read_file(sidecar);
    } catch (const Error&) {
    }
  }
  return info;
}

}  // namespace facecrowd
