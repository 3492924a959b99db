#include "devtools/face_split.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "devtools/eval_detect.h"
#include "app/photo_input.h"
#include "core/error.h"

namespace facecrowd {
namespace fs = std::filesystem;
namespace {

struct Context {
  fs::path file;
  nlohmann::json doc;
  std::map<std::string, fs::path> roots;

  [[noreturn]] void bad(const std::string& what) const {
    throw Error(ExitCode::kBadInput, "face split '" + file.string() + "': " + what);
  }

  // "ROOT:relative/path" -> a path under that root (which must exist).
  fs::path resolve(const std::string& ref) const {
    auto colon = ref.find(':');
    if (colon == std::string::npos) bad("'" + ref + "' is not ROOT:path");
    std::string root = ref.substr(0, colon);
    auto it = roots.find(root);
    if (it == roots.end()) bad("'" + ref + "' names root '" + root + "', which \"roots\" does not define");
    std::error_code ec;
    if (!fs::is_directory(it->second, ec)) {
      std::string hint;
      if (doc.contains("install") && doc["install"].contains(root)) hint = "; " + doc["install"][root].get<std::string>();
      throw Error(ExitCode::kNotFound, "face split '" + file.string() + "': root '" + root + "' (" +
                                           it->second.string() + ") is not a folder" + hint +
                                           ", or pass --root " + root + "=DIR");
    }
    return it->second / ref.substr(colon + 1);
  }
};

void add_identities(const Context& c, const fs::path& dir, std::vector<SplitFace>& out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) c.bad("identities folder '" + dir.string() + "' does not exist");
  std::vector<SplitFace> found;
  for (const auto& person : fs::directory_iterator(dir)) {
    if (!person.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(person.path()))
      if (f.is_regular_file() && has_image_extension(f.path()))
        found.push_back({person.path().filename().string(), f.path(), std::nullopt});
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.image < b.image; });
  if (found.empty()) c.bad("identities folder '" + dir.string() + "' holds no <person>/<image>");
  out.insert(out.end(), found.begin(), found.end());
}

void add_boxes(const fs::path& xml, std::vector<SplitFace>& out) {
  for (const auto& image : read_imglab_xml(xml)) {
    fs::path path = fs::path(image.file).is_absolute() ? fs::path(image.file) : xml.parent_path() / image.file;
    int n = 0;
    for (const auto& b : image.boxes) {
      if (b.ignore) continue;
      out.push_back({fs::path(image.file).filename().string() + "#" + std::to_string(n++), path, b.box});
    }
  }
}

}  // namespace

std::pair<std::string, fs::path> parse_root_flag(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw Error(ExitCode::kUsage, "--root '" + text + "': expected NAME=DIR (e.g. shared=../shared/data/faces)");
  return {text.substr(0, eq), fs::path(text.substr(eq + 1))};
}

std::vector<SplitFace> load_split_set(const fs::path& json_file, const std::string& set,
                                      const std::map<std::string, fs::path>& roots) {
  std::ifstream in(json_file);
  if (!in) throw Error(ExitCode::kNotFound, "face split '" + json_file.string() + "' cannot be opened");
  Context c{json_file, {}, {}};
  try {
    c.doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    c.bad(std::string("not JSON: ") + e.what());
  }
  if (!c.doc.is_object() || !c.doc.contains("sets") || !c.doc["sets"].is_object()) c.bad("no \"sets\" object");
  if (c.doc.contains("roots") && c.doc["roots"].is_object())
    for (const auto& [name, dir] : c.doc["roots"].items()) {
      if (!dir.is_string()) c.bad("root '" + name + "' is not a string");
      fs::path p = dir.get<std::string>();
      c.roots[name] = p.is_absolute() ? p : json_file.parent_path() / p;
    }
  for (const auto& [name, dir] : roots) c.roots[name] = dir;
  if (!c.doc["sets"].contains(set)) {
    std::string names;
    for (const auto& [name, _] : c.doc["sets"].items()) names += (names.empty() ? "" : ", ") + name;
    throw Error(ExitCode::kNotFound, "face split '" + json_file.string() + "' has no set '" + set + "' (it has: " + names + ")");
  }
  const auto& sources = c.doc["sets"][set]["sources"];
  if (!sources.is_array()) c.bad("set '" + set + "' has no \"sources\" array");
  std::vector<SplitFace> out;
  for (const auto& s : sources) {
    if (s.contains("identities") && s["identities"].is_string()) {
      add_identities(c, c.resolve(s["identities"]), out);
    } else if (s.contains("boxes") && s["boxes"].is_string()) {
      add_boxes(c.resolve(s["boxes"]), out);
    } else if (s.contains("identity") && s["identity"].is_string() && s.contains("image") && s["image"].is_string()) {
      SplitFace f{s["identity"], c.resolve(s["image"]), std::nullopt};
      if (s.contains("box")) {
        const auto& b = s["box"];
        if (!b.is_array() || b.size() != 4 || !std::all_of(b.begin(), b.end(), [](const auto& v) { return v.is_number(); }))
          c.bad("the box of '" + f.identity + "' is not [x, y, width, height]");
        f.box = cv::Rect2f(b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>());
      }
      out.push_back(std::move(f));
    } else {
      c.bad("set '" + set + "': source " + s.dump() + " is none of {identities}, {boxes}, {identity, image[, box]}");
    }
  }
  return out;
}

}  // namespace facecrowd
