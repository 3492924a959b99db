// A committed split of labelled faces into named sets (e.g. "calibration" and "evaluation") for the
// impostor-pair evaluation (devtools/face_pairs.h, `facecrowd eval faces --pairs SPLIT.json --set NAME`).
// Contract: load_split_set(json, set, roots) returns the faces of one set, each with its identity, its
// image and, for a face in a photo of several people, the box that picks it. The JSON:
//   {"roots": {"NAME": "DIR", ...},            relative DIRs are relative to the JSON file's folder
//    "sets": {"SET": {"about": "...", "sources": [SOURCE, ...]}, ...}}
// where a SOURCE is one of
//   {"identities": "ROOT:path"}                 every sub-folder is an identity, its images its faces
//   {"boxes": "ROOT:file.xml"}                  dlib imglab XML: every box is a face of its own identity
//                                               ("<image>#<n>": strangers; different photos, different people)
//   {"identity": "ID", "image": "ROOT:path", "box": [x, y, w, h]}   one face; without "box": the photo's face
// `roots` (from --root NAME=DIR) replace the file's roots. Errors: kNotFound naming the file, the set (with
// the sets there are) or a root's folder that is absent (with the file's "install" hint for that root);
// kBadInput naming the file and the entry that is malformed.
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace facecrowd {

struct SplitFace {
  std::string identity;
  std::filesystem::path image;
  std::optional<cv::Rect2f> box;  // pixels of the upright image; none: the photo's best face
};

std::vector<SplitFace> load_split_set(const std::filesystem::path& json_file, const std::string& set,
                                      const std::map<std::string, std::filesystem::path>& roots = {});

// "NAME=DIR" -> (NAME, DIR); Error(kUsage) naming the text otherwise.
std::pair<std::string, std::filesystem::path> parse_root_flag(const std::string& text);

}  // namespace facecrowd
