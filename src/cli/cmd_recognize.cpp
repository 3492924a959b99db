// `facecrowd recognize PHOTO --session S`: attendance from a group photo (app/faces/attendance.h).
#include <iomanip>
#include <iostream>
#include <map>

#include "app/faces/attendance.h"
#include "app/faces/gallery_index.h"
#include "cli/command.h"
#include "cli/face_options.h"
#include "cli/flag_values.h"
#include "core/error.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

std::string box_text(const cv::Rect& b) {
  return "x=" + std::to_string(b.x) + " y=" + std::to_string(b.y) + " w=" + std::to_string(b.width) +
         " h=" + std::to_string(b.height);
}

CommandRegistrar registrar([](CLI::App& app, GlobalOptions& globals) {
  struct Options {
    std::string db{kDefaultDatabase};
    std::string photo, session, annotate, at, search = "auto";
    bool json = false;
    bool keep_unknown_faces = true;
    MatchFlags match;
    DetectorFlag detector;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "recognize",
      "Mark attendance from a group photo: every face is matched against the enrolled profiles.\n\n"
      "A recognised person gets one attendance record per session; uploading another photo of the same\n"
      "session keeps each person's most confident record. Unknown faces are listed with their boxes\n"
      "(and the closest profile, for review); each one's crop and embedding are kept, as the server keeps\n"
      "them, so it can be listed, clustered and assigned to a person later (GET/POST /api/v1/unknown-faces).\n"
      "The photo is stored (fs.files, kind group_photo) and an attendance.recognize audit entry written, all\n"
      "in one transaction.\n\n"
      "Examples:\n"
      "  facecrowd recognize class7a.jpg --session class-7A-2026-03-02 --annotate class7a_marked.jpg\n"
      "  facecrowd recognize gate.jpg --session shift-early --at 2026-03-02T06:05:00Z --json");
  cmd->add_option("--db", opts->db, "database")->capture_default_str();
  cmd->add_option("PHOTO", opts->photo, "the group photo")->required();
  cmd->add_option("--session", opts->session, "the class, shift or event the photo is of")->required();
  cmd->add_option("--annotate", opts->annotate, "also write the photo with boxes, names and scores to this .jpg");
  cmd->add_option("--at", opts->at, "when the photo was taken (ISO 8601; default now): the records' timestamp");
  opts->match.add_to(cmd);
  opts->detector.add_to(cmd);
  cmd->add_option("--search", opts->search,
                  "gallery search: auto (through the cached index of `facecrowd gallery index` when the gallery "
                  "has >= 5000 embeddings and the photo >= 100 faces, where reading it pays), index (whenever one "
                  "is usable) or exact")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "index", "exact"}));
  cmd->add_flag("--keep-unknown-faces,!--no-keep-unknown-faces", opts->keep_unknown_faces,
                "keep each unknown face's crop and embedding for review (default: kept)");
  cmd->add_flag("--json", opts->json, "print the result as JSON");
  cmd->callback([opts, &globals] {
    RecognizeRequest request;
    request.photo = opts->photo;
    request.session = opts->session;
    request.match = opts->match.resolve(selected_face_model(globals));
    if (!opts->annotate.empty()) request.annotate = opts->annotate;
    request.taken_at = time_flag("--at", opts->at);
    request.gallery_search = parse_gallery_search_mode(opts->search);
    request.keep_unknown_faces = opts->keep_unknown_faces;
    auto pipeline = open_face_pipeline(globals, opts->detector);
    auto db = Database::open(DataDir::open(globals.data_dir), opts->db);
    RecognizeResult result = recognize(*db, *pipeline, request);
    // Also with --json (stdout stays the JSON): a gallery whose model changed must not fail silently.
    for (const auto& w : result.warnings) std::cerr << "warning: " << w << "\n";
    if (opts->json) {
      std::cout << result.to_json().dump(2) << "\n";
      return;
    }
    size_t known = 0;
    for (const auto& f : result.faces) {
      if (!f.known) continue;
      ++known;
      std::cout << "recognised " << std::left << std::setw(24) << for_terminal(f.person_name.value_or("")) << " confidence "
                << std::fixed << std::setprecision(2) << f.confidence << "  distance " << std::setprecision(3)
                << f.distance << "  " << box_text(f.box) << "  record " << f.record << "\n";
    }
    // Unknown faces a sharper enrolled photo would let through, per person (closest profile id -> faces, name).
    std::map<std::string, std::pair<size_t, std::string>> blurred_enrolment;
    for (const auto& f : result.faces) {
      if (f.known) continue;
      std::cout << "unknown face  " << box_text(f.box) << "  (" << for_terminal(f.why_unknown) << ")\n";
      if (f.verdict == MatchVerdict::kEnrolledTooBlurred && f.closest_id) {
        auto& [faces, name] = blurred_enrolment[*f.closest_id];
        ++faces;
        name = f.closest_name.value_or("");
      }
    }
    std::cout << "session " << result.session << ": " << known << " recognised, " << result.faces.size() - known
              << " unknown; photo stored as file " << result.photo_file_id << "\n";
    for (const auto& [id, seen] : blurred_enrolment)
      std::cerr << "note: " << seen.first << " unknown face" << (seen.first == 1 ? " is" : "s are") << " closest to "
                << (seen.second.empty() ? "profile " + id : for_terminal(seen.second))
                << ", whose enrolled photo is too blurred to be sure; to recognise them, enrol a sharper photo: "
                   "facecrowd enroll --profile "
                << id << " PHOTO\n";
    if (result.gallery_embeddings == 0)
      std::cerr << "note: no one is enrolled for this model yet (facecrowd enroll --name NAME PHOTO)\n";
    else if (result.gallery_search == "exact" && opts->search == "index")
      std::cerr << "note: " << result.gallery_note << "\n";
  });
});

}  // namespace
}  // namespace facecrowd
