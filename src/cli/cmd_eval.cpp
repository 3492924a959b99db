// `facecrowd eval faces|detect|crowd`: recognition, detection and counting quality on labelled data
// (devtools/eval_faces.h, devtools/eval_detect.h, devtools/eval_crowd.h). Reads images and models only; writes nothing
// to the store.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "devtools/eval_crowd.h"
#include "devtools/eval_detect.h"
#include "devtools/eval_faces.h"
#include "devtools/face_pairs.h"
#include "devtools/face_split.h"
#include "cli/command.h"
#include "cli/face_options.h"
#include "core/error.h"
#include "core/files.h"

namespace facecrowd {
namespace {

std::function<void(size_t, size_t)> progress_printer(const GlobalOptions& globals, const char* what) {
  if (!show_progress(globals)) return {};
  return [what](size_t done, size_t total) {
    std::cerr << "\r" << what << " " << done << "/" << total << (done == total ? "\n" : "") << std::flush;
  };
}

// Progress of a long evaluation (a Part A set takes minutes) on stderr, also when stderr is a log file or a
// pipe: on a terminal one line rewritten in place, otherwise a line for the first image, then at most one
// every 10 s, and one for the last, each with the elapsed time and an estimate of the time left.
// --quiet prints nothing.
std::function<void(size_t, size_t)> logged_progress_printer(const GlobalOptions& globals, const char* what) {
  if (globals.quiet) return {};
  const bool terminal = show_progress(globals);
  auto started = std::chrono::steady_clock::now();
  auto last_line = std::make_shared<std::chrono::steady_clock::time_point>();
  return [what, terminal, started, last_line](size_t done, size_t total) {
    auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - started).count();
    const bool last = done == total;
    if (!terminal && done != 1 && !last && now - *last_line < std::chrono::seconds(10)) return;
    *last_line = now;
    std::string line = std::string(what) + " " + std::to_string(done) + "/" + std::to_string(total) + ", " +
                       std::to_string(int(elapsed + 0.5)) + " s";
    if (!last) line += ", about " + std::to_string(int(elapsed / double(done) * double(total - done) + 0.5)) + " s left";
    if (terminal)
      std::cerr << "\r" << line << "   " << (last ? "\n" : "") << std::flush;
    else
      std::cerr << line << "\n" << std::flush;
  };
}

void write_csv(const std::string& path, const std::string& text) {
  if (!path.empty()) write_file_durably(path, text);
}

void add_faces(CLI::App* eval, GlobalOptions& globals) {
  struct Options {
    std::string gallery, probe, unknown, identities;
    int split = 0;
    std::string pairs, set = "evaluation", curve, faces_out;
    std::vector<std::string> roots;
    int k_nearest = 1;
    MatchFlags match;
    DetectorFlag detector;
    int min_face_px = -1;
    std::string csv;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval->add_subcommand(
      "faces",
      "Measure recognition on folders of identities (DIR/<person>/<photo>): every gallery photo is enrolled\n"
      "in an in-memory gallery (nothing is written to the store), every probe photo is searched. Reports:\n"
      "  rank-1 identification accuracy (top match is the right person; no face found = a miss),\n"
      "  open-set identification (right AND accepted by the match policy),\n"
      "  FAR and FRR at the threshold in use over all probe x gallery-person pairs, with the pair counts,\n"
      "  verification TAR at FAR 0.1% and 1% over the same pairs (with few identities\n"
      "    there are few impostor pairs: the report says when 0.1% cannot be reached and what FAR was),\n"
      "  unknown rejection: photos of people not in the gallery (--unknown, or identities --split leaves\n"
      "    with too few photos) that the policy rejects, and the same leave-one-identity-out.\n"
      "The match policy is recognition's: --threshold/--min-margin/--soft-faces/--soft-enrolled-faces/\n"
      "--gallery-isolation, else their $FACECROWD_MATCH_* variables, else the calibrated defaults\n"
      "(app/faces/match_policy.h).\n"
      "Examples:\n"
      "  facecrowd eval faces --gallery enrolled/ --probe probes/ --unknown strangers/\n"
      "  facecrowd eval faces --identities ../shared/data/faces/identities --split 1 --csv probes.csv\n"
      "    (per identity, photos sorted by name: the last 1 is a probe, the rest the gallery; identities with\n"
      "     only 1 photo become unknown people)\n"
      "Impostor pairs (--pairs): every pair of faces of one set of a committed split is genuine (same person)\n"
      "or impostor (different people); reports FAR and FRR at the policy's threshold with the pair counts,\n"
      "leave-one-out rank-1 and stranger false accepts, identification as recognition decides (a gallery of\n"
      "the enrollable faces, threshold AND margin: rank-1, identified, strangers accepted, each with its\n"
      "count of searches), and --curve writes FAR/FRR per threshold (CSV):\n"
      "  facecrowd eval faces --pairs tools/face_split.json --set evaluation --curve far_frr.csv\n"
      "  (the defaults were calibrated on --set calibration,calibration_small_faces only:\n"
      "   tools/calibrate_faces.md)");
  cmd->add_option("--gallery", opts->gallery, "folder of identity folders to enroll");
  cmd->add_option("--probe", opts->probe, "folder of identity folders to search (same folder names as the gallery)");
  cmd->add_option("--unknown", opts->unknown, "folder of identity folders of people NOT in the gallery");
  cmd->add_option("--identities", opts->identities, "one folder of identity folders, split by --split");
  cmd->add_option("--split", opts->split, "with --identities: hold back the last K photos of each identity as probes")
      ->check(CLI::PositiveNumber);
  opts->match.add_to(cmd);
  opts->detector.add_to(cmd);
  cmd->add_option("--min-face-px", opts->min_face_px, "smallest face to look for, pixels (default: the detector's)");
  cmd->add_option("--pairs", opts->pairs, "face split JSON (devtools/face_split.h): evaluate all pairs of one --set");
  cmd->add_option("--set", opts->set,
                  "with --pairs: which set (calibration or evaluation); A,B pools several sets (their identities\n"
                  "stay apart unless named alike), e.g. calibration,calibration_small_faces")
      ->capture_default_str();
  cmd->add_option("--root", opts->roots, "with --pairs: NAME=DIR replaces the split's root NAME (repeatable)");
  cmd->add_option("--curve", opts->curve, "with --pairs: write FAR and FRR per threshold 0.20..0.80 to FILE (CSV)");
  cmd->add_option("--faces-out", opts->faces_out,
                  "with --pairs: write each face's image, 68 landmarks, quality and embedding (dlib: also the\n"
                  "embedding of its mirrored chip) to FILE (JSON), to measure other embedding models and decision\n"
                  "rules on the same faces and pairs (tools/measure_face_models.py, tools/measure_probe_rules.py)");
  cmd->add_option("--k-nearest", opts->k_nearest,
                  "with --pairs: distance to a person = mean of their K nearest faces (a measurement knob)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--csv", opts->csv, "write one row per probe search (probe, unknown, leave_one_out) to FILE");
  cmd->add_flag("--json", opts->json, "print the figures as JSON");
  cmd->callback([opts, &globals] {
    if (!opts->pairs.empty()) {
      if (!opts->identities.empty() || !opts->gallery.empty() || !opts->probe.empty() || !opts->unknown.empty())
        throw Error(ExitCode::kUsage, "--pairs evaluates a split on its own: drop --identities/--gallery/--probe/--unknown");
      std::map<std::string, std::filesystem::path> roots;
      for (const auto& r : opts->roots) roots.insert(parse_root_flag(r));
      // "--set a,b": the faces of both sets as one pool (e.g. calibration with its small-face strangers).
      std::vector<SplitFace> faces;
      for (size_t from = 0; from <= opts->set.size();) {
        size_t comma = std::min(opts->set.find(',', from), opts->set.size());
        auto part = load_split_set(opts->pairs, opts->set.substr(from, comma - from), roots);
        faces.insert(faces.end(), part.begin(), part.end());
        from = comma + 1;
      }
      auto policy = opts->match.resolve(selected_face_model(globals));
      auto pipeline = open_face_pipeline(globals, opts->detector);
      if (opts->min_face_px >= 0) pipeline->options().detector.min_face_px = opts->min_face_px;
      auto embedded = embed_split_faces(*pipeline, faces, progress_printer(globals, "embedding faces"));
      auto report = evaluate_pairs(embedded, policy, default_curve_thresholds(), opts->k_nearest);
      write_csv(opts->curve, report.curve_csv());
      if (!opts->faces_out.empty()) {
        auto j = pair_faces_json(embedded);
        j["set"] = opts->set;
        j["split"] = opts->pairs;
        j["modelVersion"] = pipeline->models().embedding_model_version;
        write_file_durably(opts->faces_out, j.dump(1) + "\n");
      }
      if (opts->json) {
        auto j = report.to_json();
        j["set"] = opts->set;
        j["modelVersion"] = pipeline->models().embedding_model_version;
        std::cout << j.dump(2) << "\n";
        return;
      }
      std::cout << "set '" << opts->set << "' of " << opts->pairs << "\n" << report.text();
      return;
    }
    if (!opts->curve.empty() || !opts->roots.empty() || !opts->faces_out.empty())
      throw Error(ExitCode::kUsage, "--curve, --root and --faces-out go with --pairs");
    EvalSets sets;
    if (!opts->identities.empty()) {
      if (!opts->gallery.empty() || !opts->probe.empty())
        throw Error(ExitCode::kUsage, "give either --identities with --split, or --gallery and --probe");
      if (opts->split < 1) throw Error(ExitCode::kUsage, "--identities needs --split K (photos per identity to hold back)");
      sets = split_identities(list_identities(opts->identities), opts->split);
    } else {
      if (opts->gallery.empty() || opts->probe.empty())
        throw Error(ExitCode::kUsage, "give --gallery DIR and --probe DIR (or --identities DIR --split K)");
      if (opts->split) throw Error(ExitCode::kUsage, "--split needs --identities");
      sets.gallery = list_identities(opts->gallery);
      sets.probes = list_identities(opts->probe);
    }
    if (!opts->unknown.empty())
      for (auto& u : list_identities(opts->unknown)) sets.unknown.push_back(std::move(u));
    auto policy = opts->match.resolve(selected_face_model(globals));
    auto pipeline = open_face_pipeline(globals, opts->detector);
    if (opts->min_face_px >= 0) pipeline->options().detector.min_face_px = opts->min_face_px;
    auto input = embed_sets(*pipeline, sets, progress_printer(globals, "embedding photos"));
    auto report = evaluate_faces(input, policy);
    write_csv(opts->csv, report.csv());
    if (opts->json) {
      auto j = report.to_json();
      j["modelVersion"] = pipeline->models().embedding_model_version;
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << report.text();
  });
}

void add_detect(CLI::App* eval, GlobalOptions& globals) {
  struct Options {
    std::string xml, images, csv;
    DetectEvalOptions eval;
    DetectorFlag detector;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval->add_subcommand(
      "detect",
      "Measure face detection against hand-drawn boxes in dlib imglab XML (<image file=...><box top left\n"
      "width height [ignore='1']/>). A detection is right when it overlaps an unclaimed box by IoU >= --iou\n"
      "(best score first). recall = matched boxes / boxes; precision = matched / (matched + false positives),\n"
      "where an unmatched detection is a false positive only when it is at least as large as the smallest\n"
      "annotated face of its image: such sets leave small background faces unboxed, so smaller extra\n"
      "detections are reported apart, not counted. Detections of ignore='1' boxes count neither way.\n"
      "Detection runs as in recognition (detector + landmark check).\n"
      "Example:\n"
      "  facecrowd eval detect --xml ../shared/data/faces/detection/dlib_training/training.xml --csv det.csv");
  cmd->add_option("--xml", opts->xml, "imglab XML file")->required();
  cmd->add_option("--images", opts->images, "folder of the images (default: the XML's folder)");
  cmd->add_option("--iou", opts->eval.iou, "overlap that makes a match")->capture_default_str()->check(CLI::Range(0.05, 1.0));
  cmd->add_option("--min-face-px", opts->eval.detector.min_face_px, "smallest face to look for, pixels (more tiles below)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-score", opts->eval.detector.min_score, "detector score to keep a face")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--rotations", opts->eval.rotations,
                  "also measure each image turned by these angles, degrees counter-clockwise (e.g. "
                  "0,15,-15,30,-30,45,-45,90: tilted heads); a box becomes the square of its mean side around its "
                  "turned centre, so use --iou 0.3 with it")
      ->delimiter(',')
      ->expected(1, -1)
      ->capture_default_str()
      ->check(CLI::Range(-360.0, 360.0));
  opts->detector.add_to(cmd);
  cmd->add_option("--csv", opts->csv, "write one row per image to FILE");
  cmd->add_flag("--json", opts->json, "print the figures as JSON (with each image's missed boxes and false detections)");
  cmd->callback([opts, &globals] {
    opts->detector.apply(opts->eval.detector);
    auto pipeline = open_face_pipeline(globals, opts->detector);
    auto report = evaluate_detection(*pipeline, opts->xml, opts->images, opts->eval,
                                     progress_printer(globals, "detecting"));
    write_csv(opts->csv, report.csv());
    if (opts->json) {
      std::cout << report.to_json().dump(2) << "\n";
      return;
    }
    std::cout << report.text();
  });
}

void add_crowd(CLI::App* eval, GlobalOptions& globals) {
  struct Options {
    std::string dir, split, set, csv;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval->add_subcommand(
      "crowd",
      "Measure head counting on annotated crowd images: DIR/images/NAME.jpg with DIR/points/NAME.json\n"
      "({\"count\": N, \"points\": [[x, y], ...]}, the layout of ../shared/data/crowd). Prints MAE, RMSE and\n"
      "bias (mean predicted - true) of the count, overall and per bucket of the true count (0-50, 50-200,\n"
      "200-1000, over 1000: dense scenes are where counters undercount); --csv writes image,true,predicted,error\n"
      "per image. Progress goes to stderr (--quiet: none).\n"
      "--split/--set keep only the images the training held back (tools/crowd/crowd_head.split.json lists them\n"
      "per set: A, B, street_india), so the figures are on images the model never saw.\n"
      "Examples:\n"
      "  facecrowd eval crowd ../shared/data/crowd/shanghaitech/part_B/train \\\n"
      "      --split tools/crowd/crowd_head.split.json --set B --csv b_val.csv\n"
      "  facecrowd eval crowd my_gate_images/ --json");
  cmd->add_option("DIR", opts->dir, "folder with images/ and points/")->required();
  cmd->add_option("--split", opts->split, "training split file: evaluate only its validation images of --set");
  cmd->add_option("--set", opts->set, "with --split: which set DIR is (A, B, street_india)");
  cmd->add_option("--csv", opts->csv, "write one row per image (image,true,predicted,error) to FILE");
  cmd->add_flag("--json", opts->json, "print the figures as JSON");
  cmd->callback([opts, &globals] {
    if (opts->split.empty() != opts->set.empty()) throw Error(ExitCode::kUsage, "--split and --set go together");
    std::optional<std::set<std::string>> only;
    if (!opts->split.empty()) only = read_validation_names(opts->split, opts->set);
    auto images = list_crowd_truth(opts->dir, only);
    auto counter = vision::CrowdCounter::open(explicit_models_dir(globals));
    auto report = evaluate_crowd(*counter, images, {}, logged_progress_printer(globals, "counting images"));
    write_csv(opts->csv, report.csv());
    if (opts->json) {
      auto j = report.to_json();
      j["modelVersion"] = counter->model_version();
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << report.text();
  });
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  auto* eval = app.add_subcommand("eval", "Measure recognition, detection and crowd counting on labelled data");
  eval->require_subcommand(1);
  add_faces(eval, globals);
  add_detect(eval, globals);
  add_crowd(eval, globals);
});

}  // namespace
}  // namespace facecrowd
