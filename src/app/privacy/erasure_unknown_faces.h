// The erased person among the unknown faces (GDPR art. 17; issue 10). A recognition keeps each face it
// could not name with its crop and embedding (app/faces/unknown_faces.h). When a person is erased, some of those
// faces are theirs: the one an operator assigned to them (its crop was enrolled into their profile) and
// the same stranger's faces in other sessions that nobody assigned. Those crops and embeddings are facial
// images and biometric data of the erased person, so the erasure takes them too — not only the profile.
//
// Which faces: an unknown face is the person's when
//   - its crop is one of the person's files (an assigned crop is stored once, by sha256, so it is the very
//     file the profile points to), or one the ledger lists for them (a re-application after a restore,
//     when the profile itself may be gone), or
//   - its embedding is within `max_distance` (the recognition threshold, unit-vector L2) of any of the
//     person's embeddings of the same model: the faces recognition would have named them by, the way
//     clustering joins the same stranger across photos. The margin to other people is not asked: a face
//     that close to the erased person is not kept as theirs for later review, whoever else it is close to.
// What happens: the face keeps its number and box (the photo's head count does not change, as a face that
// turned unknown inside recognize's transaction), and loses `cropFileId` and `embedding`; the crop file is
// deleted with the erasure's other files when nothing else points to it, and the oplog's copies of the
// record are rewritten the same way (app/privacy/erasure.h). The face stays listed, not assignable.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "app/faces/gallery_loader.h"
#include "store/database.h"

namespace facecrowd {

struct PersonsFaces {
  std::vector<std::pair<std::string, EmbeddingVector>> embeddings;  // (model version, unit vector)
  std::set<std::string> crop_file_ids;
  float max_distance = 0;  // for dlib's 128-D vectors; faceres' are judged by its own calibrated threshold
  bool empty() const { return embeddings.empty() && crop_file_ids.empty(); }
};

// The person's embeddings and files, from their profile (when it still exists) and `known_file_ids`.
PersonsFaces persons_faces(const std::optional<Document>& profile, const std::set<std::string>& known_file_ids,
                           float max_distance);

// `record` (an attendance record) with the person's unknown faces stripped of crop and embedding; nullopt
// when it has none of them. Appends the stripped faces' crop file ids to `crops`.
std::optional<Document> without_persons_faces(const Document& record, const PersonsFaces& person,
                                              std::set<std::string>& crops, int64_t& faces_stripped);

}  // namespace facecrowd
