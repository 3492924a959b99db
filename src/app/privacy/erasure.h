// GDPR erasure of a person (`facecrowd person delete ID`), and its re-application after a restore.
//
// erase_person() removes, in ONE WriteTransaction (so every change has its oplog entry, DESIGN invariant 1):
//   - the faceprofiles document (and with it its embeddings, which live inside it);
//   - the files it points to (facialImageIds, embeddings.sourceFileId: fs.files + fs.chunks), except a
//     file another record still points to (file_store.h's file_reference_fields(); invariant 4);
//   - the person's face among the unknown faces (app/erasure_unknown_faces.h: the crop assigned to them and
//     the same stranger's faces elsewhere, by embedding): crop and embedding go, the box stays;
//   - its attendances: removed, or anonymised (personId -> null, personName -> "erased"; session, time,
//     confidence, box and photo stay, so head counts per session do not change);
//   - scrubs the earlier audit entries about the person (target = ID: profile.enroll, profile.update):
//     their details' name, changed values and photo file names become "erased"; and in every other entry,
//     a text naming the person (name, external id, e-mail, or the id inside a sentence, e.g. another
//     enrollment's "matches profile ID 'Name'" warning) becomes "erased". Action, time, actor, ids and
//     counts stay, so the log still shows what was done (the entries themselves are not deleted); the
//     audit chain stays verifiable (app/records/audit_chain.h: the salt goes, erasedFor names the person);
//   - rewrites the live oplog's entries that hold the person (Database::WriteTransaction::rewrite_oplog):
//     inserts/updates of their profile and of their deleted files' fs.files/fs.chunks become no-op notes,
//     their attendances' entries hold the anonymised document (or a note when removed), and audit entries
//     the scrubbed version. Point-in-time recovery replays these as the erased state. Slices already
//     shipped (`oplog ship`) and archives are outside the data directory: they keep the person until
//     retention prunes them, and the ledger re-applies the erasure to anything restored from them;
//   - deletes with SQLite's secure_delete on (deleted rows are zeroed, not left in free pages) and, after
//     the commit, checkpoints the WAL with TRUNCATE so no old page version stays readable in it;
//   - and writes the audit entry {action: "person.delete", target: ID, details: counts} — never the
//     person's name (nor the operator's free-text reason, which could hold it; that goes to the ledger).
//
// Order of the ledger and the commit (DESIGN invariant 5). The ledger line (erasure_ledger.h) is appended
// and fsynced BEFORE the transaction commits, so whenever the erasure is visible in the database the
// ledger already says so, and no later restore can miss it. A crash between the two leaves a ledger line
// for a person still in the database: harmless, because re-applying is idempotent and the person was to
// be erased anyway — the next restore re-applies it, `facecrowd person erasures --reapply` does it at
// once, and `person delete ID` again completes it (without a second ledger line). The opposite order
// could lose the ledger line of a committed erasure, and an old backup would bring the person back.
//
// reapply_erasures() is what every restore runs inside the new generation after load and oplog replay
// and before the swap (app/recovery/restore_with_erasures.h): every ledger record is applied again with its own
// attendance policy. It applies every record whatever database it names (person ids are ObjectIds, unique
// across databases), so a test restore into another --db cannot bring the person back either. It is
// idempotent: a record whose person is already gone changes nothing.
//
// Gallery index caches (app/faces/gallery_index.h) keep vectors of markDeleted entries, so erase_person drops
// every database's cache, and so do reapply_erasures_live and restore_with_erasures when they removed anything.
//
// Not covered: copies inside backups and shipped oplog slices stay until retention prunes them — that
// is why the ledger exists; the ledger re-applies the erasure whenever one of them is restored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/privacy/erasure_ledger.h"
#include "app/faces/match_policy.h"
#include "store/database.h"

namespace facecrowd {

struct ErasureOptions {
  std::string db = "face-recognition";
  AttendancePolicy attendance = AttendancePolicy::kRemove;
  std::optional<std::string> reason;  // kept in the ledger only
  std::optional<std::string> actor;   // default: default_audit_actor()
  std::string client_address = "local";
  float unknown_face_distance = MatchPolicy{}.max_distance;  // see apply_erasure()
};

// What one erasure (or one re-application) changed.
struct ErasureEffect {
  int64_t profiles_removed = 0;
  int64_t embeddings_removed = 0;
  int64_t attendances_removed = 0;
  int64_t attendances_anonymised = 0;
  std::vector<std::string> files_deleted;  // ids
  int64_t files_kept_shared = 0;           // pointed to by another record, so kept
  int64_t audit_entries_scrubbed = 0;      // earlier entries about the person, identifying details replaced
  int64_t oplog_entries_rewritten = 0;     // live oplog entries that held the person (see below)
  int64_t unknown_faces_stripped = 0;      // their face among the unknown faces (app/erasure_unknown_faces.h)
  bool changed() const {
    return profiles_removed || attendances_removed || attendances_anonymised || !files_deleted.empty() ||
           audit_entries_scrubbed || oplog_entries_rewritten || unknown_faces_stripped;
  }
  nlohmann::json to_json() const;
};

struct ErasureReport {
  std::string person_id;
  std::string db;
  AttendancePolicy attendance = AttendancePolicy::kRemove;
  UnixMillis erased_at = 0;
  ErasureEffect effect;
  std::string audit_id;
  std::string ledger_path;
  bool ledger_already_listed = false;  // completing an erasure whose ledger line a crash left behind
  bool wal_truncated = false;          // false: a reader kept the WAL checkpoint from completing

  nlohmann::json to_json() const;
};

// Erases `person_id` from database options.db of the data directory at `data_root` (see above).
// Error(kNotFound) when the database or the profile does not exist — saying so when the ledger shows the
// person was already erased — and nothing is changed; Error(kUsage) for an empty id.
ErasureReport erase_person(const fs::path& data_root, const std::string& person_id, const ErasureOptions& options);

// Applies the erasure of `person_id` inside `tx` (no ledger, no audit): the building block of both paths.
// `extra_file_ids`: files to delete too when nothing points to them (a ledger record's file_ids).
// `unknown_face_distance`: how close an unknown face's embedding must be to one of the person's to be
// theirs (app/erasure_unknown_faces.h); the recognition threshold.
ErasureEffect apply_erasure(Database::WriteTransaction& tx, const std::string& person_id, AttendancePolicy policy,
                            const std::vector<std::string>& extra_file_ids = {},
                            float unknown_face_distance = MatchPolicy{}.max_distance);

struct ReapplyReport {
  int64_t records = 0;        // ledger records read
  int64_t people_changed = 0; // records that still found something to erase
  ErasureEffect effect;       // summed
  void include(const ReapplyReport& more);  // adds a later re-application's records and effect
  nlohmann::json to_json() const;
};

// Re-applies every record of `ledger` inside `tx` (idempotent). When it changed something it also writes
// an audit entry {action: "person.erasure.reapply", details: counts and personIds} (ids only, no names):
// a full restore replaces auditlogs with the backup's, which predate the person.delete entries.
// `unknown_face_distance` is apply_erasure()'s: the recognition threshold of whoever re-applies (a
// server passes its configured one, so a restore through it erases the same faces its erasures did).
ReapplyReport reapply_erasures(Database::WriteTransaction& tx, const std::vector<ErasureRecord>& ledger,
                               float unknown_face_distance = MatchPolicy{}.max_distance);

// Re-applies the data directory's ledger to the live database `db` in one transaction (startup check,
// `facecrowd person erasures --reapply`). Error(kNotFound) when the database does not exist.
ReapplyReport reapply_erasures_live(const fs::path& data_root, const std::string& db,
                                    float unknown_face_distance = MatchPolicy{}.max_distance);

}  // namespace facecrowd
