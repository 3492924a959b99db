#include "devtools/eval_detect.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <memory>
#include <numeric>
#include <sstream>

#include "core/error.h"
#include "vision/image_loader.h"
#include "vision/rotation_passes.h"

namespace facecrowd {
namespace {

std::string attribute(xmlNode* node, const char* name) {
  xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (!value) return {};
  std::string out(reinterpret_cast<const char*>(value));
  xmlFree(value);
  return out;
}

bool named(xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && xmlStrcmp(node->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

float number(xmlNode* box, const char* name, const std::string& what) {
  std::string text = attribute(box, name);
  try {
    size_t used = 0;
    float v = std::stof(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error(ExitCode::kBadInput, what + ": attribute " + name + "='" + text + "' is not a number");
}

float shorter_side(const cv::Rect2f& r) { return std::min(r.width, r.height); }

std::string percent(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << v * 100 << "%";
  return s.str();
}

}  // namespace

std::vector<AnnotatedImage> read_imglab_xml(const fs::path& xml) {
  std::error_code ec;
  if (!fs::is_regular_file(xml, ec)) throw Error(ExitCode::kNotFound, "annotation file '" + xml.string() + "' does not exist");
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
      xmlReadFile(xml.c_str(), nullptr, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING), xmlFreeDoc);
  if (!doc) throw Error(ExitCode::kBadInput, "annotation file '" + xml.string() + "' is not well-formed XML");
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || !named(root, "dataset"))
    throw Error(ExitCode::kBadInput, "annotation file '" + xml.string() + "' is not dlib imglab XML (no <dataset> root)");
  std::vector<AnnotatedImage> out;
  for (xmlNode* images = root->children; images; images = images->next) {
    if (!named(images, "images")) continue;
    for (xmlNode* image = images->children; image; image = image->next) {
      if (!named(image, "image")) continue;
      AnnotatedImage a{attribute(image, "file"), {}};
      std::string what = "annotation file '" + xml.string() + "', image '" + a.file + "' (line " +
                         std::to_string(xmlGetLineNo(image)) + ")";
      if (a.file.empty()) throw Error(ExitCode::kBadInput, what + ": <image> has no file attribute");
      for (xmlNode* box = image->children; box; box = box->next) {
        if (!named(box, "box")) continue;
        std::string box_what = what + ", box at line " + std::to_string(xmlGetLineNo(box));
        AnnotatedBox b;
        b.box = {number(box, "left", box_what), number(box, "top", box_what), number(box, "width", box_what),
                 number(box, "height", box_what)};
        if (b.box.width <= 0 || b.box.height <= 0)
          throw Error(ExitCode::kBadInput, box_what + ": width and height must be positive");
        b.ignore = attribute(box, "ignore") == "1";
        a.boxes.push_back(b);
      }
      out.push_back(std::move(a));
    }
  }
  if (out.empty()) throw Error(ExitCode::kBadInput, "annotation file '" + xml.string() + "' lists no <image>");
  return out;
}

AnnotatedImage rotate_annotation(const AnnotatedImage& truth, const cv::Matx23d& m, double degrees) {
  std::ostringstream name;
  name << truth.file << "@" << degrees;
  AnnotatedImage out{name.str(), {}};
  for (AnnotatedBox b : truth.boxes) {
    cv::Point2f c(b.box.x + b.box.width / 2, b.box.y + b.box.height / 2);
    cv::Point2f t(float(m(0, 0) * c.x + m(0, 1) * c.y + m(0, 2)), float(m(1, 0) * c.x + m(1, 1) * c.y + m(1, 2)));
    float side = (b.box.width + b.box.height) / 2;
    b.box = cv::Rect2f(t.x - side / 2, t.y - side / 2, side, side);
    out.boxes.push_back(b);
  }
  return out;
}

ImageDetectResult match_detections(const AnnotatedImage& truth, const std::vector<vision::FaceDetection>& detections,
                                   float iou, float smallest_side) {
  ImageDetectResult r;
  r.file = truth.file;
  r.detections = detections.size();
  float smallest = std::numeric_limits<float>::max();
  for (const auto& b : truth.boxes) {
    if (!b.ignore) ++r.boxes;
    smallest = std::min(smallest, shorter_side(b.box));
  }
  if (truth.boxes.empty()) smallest = smallest_side;
  std::vector<size_t> order(detections.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return detections[a].score > detections[b].score; });
  std::vector<bool> taken(truth.boxes.size(), false);
  for (size_t d : order) {
    const auto& det = detections[d];
    float best = 0;
    size_t best_box = truth.boxes.size();
    for (size_t b = 0; b < truth.boxes.size(); ++b) {
      if (taken[b]) continue;
      float v = vision::intersection_over_union(det.box, truth.boxes[b].box);
      if (v > best) best = v, best_box = b;
    }
    if (best_box < truth.boxes.size() && best >= iou) {
      taken[best_box] = true;
      if (truth.boxes[best_box].ignore) {
        ++r.matched_ignored;
      } else {
        ++r.true_positives;
        r.matched_iou.push_back(best);
      }
    } else if (shorter_side(det.box) >= smallest) {
      ++r.false_positives;
      r.false_detections.push_back(det);
    } else {
      ++r.unmatched_small;
    }
  }
  for (size_t b = 0; b < truth.boxes.size(); ++b)
    if (!taken[b] && !truth.boxes[b].ignore) r.missed.push_back(truth.boxes[b].box);
  return r;
}

void DetectEvalReport::add(ImageDetectResult image) {
  boxes += image.boxes;
  detections += image.detections;
  true_positives += image.true_positives;
  false_positives += image.false_positives;
  unmatched_small += image.unmatched_small;
  matched_ignored += image.matched_ignored;
  images.push_back(std::move(image));
  recall = boxes ? double(true_positives) / double(boxes) : 0;
  precision = true_positives + false_positives ? double(true_positives) / double(true_positives + false_positives) : 0;
  double sum = 0;
  size_t n = 0;
  for (const auto& i : images)
    for (float v : i.matched_iou) sum += v, ++n;
  mean_iou = n ? sum / double(n) : 0;
}

nlohmann::json DetectEvalReport::to_json() const {
  auto rect = [](const cv::Rect2f& r) { return nlohmann::json{std::lround(r.x), std::lround(r.y), std::lround(r.width), std::lround(r.height)}; };
  nlohmann::json per = nlohmann::json::array();
  for (const auto& i : images) {
    nlohmann::json missed = nlohmann::json::array(), wrong = nlohmann::json::array();
    for (const auto& b : i.missed) missed.push_back(rect(b));
    for (const auto& d : i.false_detections) wrong.push_back({{"box", rect(d.box)}, {"score", d.score}});
    per.push_back({{"file", i.file},
                   {"boxes", i.boxes},
                   {"detections", i.detections},
                   {"truePositives", i.true_positives},
                   {"falsePositives", i.false_positives},
                   {"unmatchedSmall", i.unmatched_small},
                   {"matchedIgnored", i.matched_ignored},
                   {"missedBoxes", missed},
                   {"falsePositiveDetections", wrong}});
  }
  return {{"iou", options.iou},
          {"rotations", options.rotations},
          {"minFacePx", options.detector.min_face_px},
          {"minScore", options.detector.min_score},
          {"detector", vision::to_string(options.detector.model)},
          {"boxes", boxes},
          {"detections", detections},
          {"truePositives", true_positives},
          {"falsePositives", false_positives},
          {"unmatchedSmall", unmatched_small},
          {"matchedIgnored", matched_ignored},
          {"recall", recall},
          {"precision", precision},
          {"meanIou", mean_iou},
          {"images", per}};
}

std::string DetectEvalReport::text() const {
  std::ostringstream s;
  s << images.size() << " images, " << boxes << " annotated faces, " << detections << " detections (IoU >= "
    << options.iou << ", " << vision::to_string(options.detector.model) << ", min face " << options.detector.min_face_px
    << " px, min score " << options.detector.min_score << ")\n"
    << "recall:    " << true_positives << "/" << boxes << " = " << percent(recall) << "\n"
    << "precision: " << true_positives << "/" << (true_positives + false_positives) << " = " << percent(precision)
    << " (mean IoU of matches " << std::setprecision(3) << mean_iou << ")\n";
  if (unmatched_small)
    s << "not counted: " << unmatched_small << " unmatched detections smaller than the smallest annotated face "
      << "(small background faces are not annotated)\n";
  if (matched_ignored) s << "not counted: " << matched_ignored << " detections of boxes marked ignore='1'\n";
  return s.str();
}

std::string DetectEvalReport::csv() const {
  std::ostringstream s;
  s << "file,boxes,detections,true_positives,false_positives,unmatched_small,matched_ignored\n";
  for (const auto& i : images)
    s << i.file << "," << i.boxes << "," << i.detections << "," << i.true_positives << "," << i.false_positives << ","
      << i.unmatched_small << "," << i.matched_ignored << "\n";
  return s.str();
}

DetectEvalReport evaluate_detection(vision::FacePipeline& pipeline, const fs::path& xml, const fs::path& images_dir,
                                    const DetectEvalOptions& options,
                                    const std::function<void(size_t, size_t)>& progress) {
  auto truth = read_imglab_xml(xml);
  fs::path dir = images_dir.empty() ? xml.parent_path() : images_dir;
  float smallest = std::numeric_limits<float>::max();
  for (const auto& t : truth)
    for (const auto& b : t.boxes) smallest = std::min(smallest, shorter_side(b.box));
  if (smallest == std::numeric_limits<float>::max()) smallest = 0;
  DetectEvalReport report;
  report.options = options;
  const size_t total = truth.size() * options.rotations.size();
  size_t done = 0;
  for (const auto& image : truth) {
    fs::path file = fs::path(image.file).is_absolute() ? fs::path(image.file) : dir / image.file;
    const cv::Mat bgr = vision::load_image(file, pipeline.options().image);
    for (double degrees : options.rotations) {
      cv::Mat turned = bgr;
      AnnotatedImage turned_truth = image;
      if (degrees != 0) {
        cv::Matx23d to_rotated;
        turned = vision::rotate_whole(bgr, degrees, to_rotated);
        turned_truth = rotate_annotation(image, to_rotated, degrees);
      }
      std::vector<vision::FaceDetection> detections;
      for (const auto& face : pipeline.analyse(turned, options.detector)) detections.push_back({face.box, face.detection_score});
      report.add(match_detections(turned_truth, detections, options.iou, smallest));
      if (progress) progress(++done, total);
    }
  }
  return report;
}

}  // namespace facecrowd
