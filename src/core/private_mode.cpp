#include "core/private_mode.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/error.h"

namespace facecrowd {
namespace {

namespace fs = std::filesystem;

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", unsigned(mode & 07777));
  return buf;
}

// Shell-quoted for a copy-and-paste fix.
std::string quoted(const fs::path& p) {
  std::string out = "'";
  for (char c : p.string()) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void check(const fs::path& path, std::vector<ExposedPath>& out, size_t limit, bool& is_dir) {
  struct stat st {};
  is_dir = false;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISLNK(st.st_mode)) return;
  is_dir = S_ISDIR(st.st_mode);
  if ((st.st_mode & 0077) != 0 && out.size() < limit) out.push_back({path, mode_t(st.st_mode & 07777), is_dir});
}

}  // namespace

std::string ExposedPath::fix() const {
  return std::string("chmod ") + (is_dir || (mode & 0100) ? "700 " : "600 ") + quoted(path);
}

std::vector<ExposedPath> find_exposed_paths(const std::vector<fs::path>& roots, size_t limit) {
  std::vector<ExposedPath> out;
  for (const auto& root : roots) {
    bool is_dir = false;
    check(root, out, limit, is_dir);
    if (!is_dir) continue;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end && out.size() < limit; it.increment(ec)) {
      bool child_is_dir = false;
      check(it->path(), out, limit, child_is_dir);
    }
  }
  return out;
}

std::string describe_exposed_paths(const std::vector<fs::path>& roots, const std::vector<ExposedPath>& exposed) {
  std::string text;
  for (const auto& root : roots) {
    std::vector<const ExposedPath*> mine;
    for (const auto& e : exposed) {
      auto rel = e.path.lexically_relative(root);
      if (e.path == root || (!rel.empty() && *rel.begin() != "..")) mine.push_back(&e);
    }
    if (mine.empty()) continue;
    std::string line = quoted(root) + " is open to other users: ";
    size_t shown = std::min<size_t>(mine.size(), 3);
    for (size_t i = 0; i < shown; ++i)
      line += (i ? ", " : "") + quoted(mine[i]->path) + " (" + octal(mine[i]->mode) + ")";
    if (mine.size() > shown) line += " and " + std::to_string(mine.size() - shown) + " more";
    line += "; fix: chmod -R go-rwx " + quoted(root);
    text += (text.empty() ? "" : "; ") + line;
  }
  return text;
}

void require_private_paths(const std::vector<fs::path>& roots, bool allow_exposed, const std::string& allow_option) {
  if (allow_exposed) return;
  auto exposed = find_exposed_paths(roots);
  if (exposed.empty()) return;
  throw Error(ExitCode::kIo, describe_exposed_paths(roots, exposed) + "; refusing to start: it holds biometric data. "
                             "Fix the modes, or set " + allow_option + " to run anyway");
}

}  // namespace facecrowd
