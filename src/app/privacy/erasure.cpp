#include "app/privacy/erasure.h"
#include "store/null_condition.h"

#include <optional>
#include <set>
#include <string_view>

#include "app/records/audit.h"
#include "app/records/audit_chain.h"
#include "app/faces/gallery_index.h"
#include "app/privacy/erasure_unknown_faces.h"
#include "core/error.h"
#include "core/files.h"
#include "store/data_dir.h"
#include "store/file_store.h"
#include "store/ledger_fingerprint.h"

namespace facecrowd {
namespace {

int64_t count_embeddings(const Document& profile) {
  bson_iter_t it, child;
  if (!bson_iter_init_find(&it, profile.get(), "embeddings") || !BSON_ITER_HOLDS_ARRAY(&it)) return 0;
  if (!bson_iter_recurse(&it, &child)) return 0;
  int64_t n = 0;
  while (bson_iter_next(&child)) ++n;
  return n;
}

// The attendance with personId -> null and personName -> "erased", every other field as it was (in order).
Document anonymised(const Document& attendance) {
  bson_t* out = bson_new();
  bson_iter_t it;
  bool had_name = false;
  if (bson_iter_init(&it, attendance.get())) {
    while (bson_iter_next(&it)) {
      std::string_view key = bson_iter_key(&it);
      if (key == "personId") {
        BSON_APPEND_NULL(out, "personId");
      } else if (key == "personName") {
        BSON_APPEND_UTF8(out, "personName", "erased");
        had_name = true;
      } else {
        bson_append_iter(out, bson_iter_key(&it), -1, &it);
      }
    }
  }
  if (!had_name) BSON_APPEND_UTF8(out, "personName", "erased");
  return Document(out);
}

// What identifies the person in text: their id, name, external id and e-mail (strings of 3+ characters).
struct PersonalStrings {
  std::string id;
  std::vector<std::string> values;  // name, externalId, e-mail
};

PersonalStrings personal_strings(const std::string& person_id, const std::optional<Document>& profile) {
  PersonalStrings p{person_id, {}};
  if (!profile) return p;
  auto j = profile->to_json();
  auto add = [&](const nlohmann::json& v) {
    if (v.is_string() && v.get<std::string>().size() >= 3) p.values.push_back(v.get<std::string>());
  };
  if (j.contains("name")) add(j["name"]);
  if (j.contains("externalId")) add(j["externalId"]);
  if (j.contains("metadata") && j["metadata"].is_object())
    for (auto& [k, v] : j["metadata"].items())
      if (k == "email" || k == "e-mail" || k == "mail" || k == "phone" ||
          (v.is_string() && v.get<std::string>().find('@') != std::string::npos))
        add(v);
  return p;
}

// Audit entries about the person (target = their profile id: profile.enroll, profile.update) keep what
// happened, when and by whom, but lose what identifies the person: the name, changed values (name,
// external id, metadata), and the file names of their photos (which often carry the name). In every other
// entry (e.g. a warning, when someone else was enrolled, that their face matches this person), a text
// that mentions the person — their name, external id or e-mail, or their id inside a sentence — becomes
// "erased". Bare ids stay (pseudonymous: attendance records and person.delete itself name them).
constexpr std::string_view kIdentifyingDetails[] = {"name", "changed", "duplicates", "warnings"};
const std::string kErased = "erased";

bool is_identifying(std::string_view key) {
  for (auto k : kIdentifyingDetails)
    if (key == k) return true;
  return false;
}

bool mentions(const std::string& text, const PersonalStrings& p) {
  for (const auto& v : p.values)
    if (text.find(v) != std::string::npos) return true;
  return text != p.id && text.find(p.id) != std::string::npos;
}

void scrub_json(nlohmann::json& j, const PersonalStrings& p) {
  if (j.is_string()) {
    if (j.get<std::string>() != kErased && mentions(j.get<std::string>(), p)) j = kErased;
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) scrub_json(v, p);
  }
}

// The entry with the person's details erased (app/records/audit_chain.h keeps its chain valid); nullopt when
// nothing in it identifies them.
std::optional<Document> scrubbed_audit_entry(const Document& entry, const PersonalStrings& p) {
  // Most entries never mention the person: a search of the raw bytes settles those without decoding.
  const std::string_view raw = entry.bytes();
  bool may_mention = raw.find(p.id) != std::string_view::npos;
  for (const auto& v : p.values) may_mention = may_mention || raw.find(v) != std::string_view::npos;
  if (!may_mention) return std::nullopt;
  bson_iter_t it;
  if (!bson_iter_init_find(&it, entry.get(), "action") || !BSON_ITER_HOLDS_UTF8(&it)) return std::nullopt;
  std::string action = bson_iter_utf8(&it, nullptr);
  if (action == "person.delete" || action == "person.erasure.reapply") return std::nullopt;  // ids and counts only
  if (!bson_iter_init_find(&it, entry.get(), "details") || !BSON_ITER_HOLDS_DOCUMENT(&it)) return std::nullopt;
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  bson_iter_document(&it, &len, &data);
  Document details = Document::from_bytes(data, len, "audit details");
  nlohmann::json j = details.to_json();
  const nlohmann::json before = j;
  bool about = bson_iter_init_find(&it, entry.get(), "target") && BSON_ITER_HOLDS_UTF8(&it) &&
               p.id == bson_iter_utf8(&it, nullptr);
  if (about) {
    for (auto& [key, value] : j.items())
      if (is_identifying(key) && value != kErased) value = kErased;
    if (j.contains("added") && j["added"].is_array())  // enrolled photos: their file names
      for (auto& a : j["added"])
        if (a.is_object() && a.contains("image")) a["image"] = kErased;
  }
  scrub_json(j, p);
  if (j == before) return std::nullopt;
  return with_erased_details(entry, Document::from_json(j, "scrubbed audit details"), p.id);
}

// The live oplog still holds the person: their profile's inserts and updates (name, external id, e-mail,
// embeddings), their photos' fs.files/fs.chunks inserts (the bytes), their attendances, and the audit
// entries scrubbed above. Each becomes what is left after the erasure: a no-op note for what was
// deleted, the anonymised attendance, the scrubbed audit entry. Replaying the rewritten oplog (a
// point-in-time restore) then never recreates the person, and the ledger re-applies the erasure anyway.
Document erased_note(const OplogEntry& e) {
  bson_t* o = bson_new();
  BSON_APPEND_UTF8(o, "msg", "erased by person.delete");
  BSON_APPEND_UTF8(o, "erasedNs", e.ns.c_str());
  char op[2] = {e.op, 0};
  BSON_APPEND_UTF8(o, "erasedOp", op);
  std::string db = e.ns.substr(0, e.ns.find('.'));
  Document note = encode_oplog_entry(e.ts, 'n', db + ".$cmd", o);
  bson_destroy(o);
  return note;
}

std::optional<std::string> key_of(const bson_t* doc, const char* field) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, field)) return std::nullopt;
  if (!BSON_ITER_HOLDS_OID(&it) && !BSON_ITER_HOLDS_UTF8(&it)) return std::nullopt;
  return id_key_of(it);
}

bool has_chunks(Database::WriteTransaction& tx, const std::string& file_id) {
  bool found = false;
  tx.find("fs.chunks", Query{{{"files_id", "=", file_id}}, "", false, 1}, [&](const Document&) {
    found = true;
    return false;
  });
  return found;
}

// Of `candidates`, those still stored (an fs.files document, or chunks alone: a restore of only fs.chunks
// brings an erased image's bytes back without its fs.files entry) that no remaining document points to.
std::set<std::string> unreferenced(Database::WriteTransaction& tx, const std::set<std::string>& candidates,
                                   int64_t& kept_shared) {
  std::set<std::string> existing;
  for (const auto& id : candidates)
    if (tx.get("fs.files", id) || has_chunks(tx, id)) existing.insert(id);
  if (existing.empty()) return existing;  // the usual case after a restore of a recent backup: no scan
  std::set<std::string> referenced;
  for (const auto& collection : file_referencing_collections())
    tx.find(collection, Query{}, [&](const Document& doc) {
      for_each_file_reference(collection, doc.get(), [&](const std::string& file_id) {
        if (existing.count(file_id)) referenced.insert(file_id);
      });
      return true;
    });
  std::set<std::string> out;
  for (const auto& id : existing) {
    if (referenced.count(id)) ++kept_shared;
    else out.insert(id);
  }
  return out;
}

void add(ErasureEffect& sum, const ErasureEffect& e) {
  sum.profiles_removed += e.profiles_removed;
  sum.embeddings_removed += e.embeddings_removed;
  sum.attendances_removed += e.attendances_removed;
  sum.attendances_anonymised += e.attendances_anonymised;
  sum.files_deleted.insert(sum.files_deleted.end(), e.files_deleted.begin(), e.files_deleted.end());
  sum.files_kept_shared += e.files_kept_shared;
  sum.audit_entries_scrubbed += e.audit_entries_scrubbed;
  sum.oplog_entries_rewritten += e.oplog_entries_rewritten;
  sum.unknown_faces_stripped += e.unknown_faces_stripped;
}

}  // namespace

nlohmann::json ErasureEffect::to_json() const {
  return {{"profilesRemoved", profiles_removed},
          {"embeddingsRemoved", embeddings_removed},
          {"attendancesRemoved", attendances_removed},
          {"attendancesAnonymised", attendances_anonymised},
          {"filesDeleted", files_deleted.size()},
          {"filesKeptShared", files_kept_shared},
          {"auditEntriesScrubbed", audit_entries_scrubbed},
          {"oplogEntriesRewritten", oplog_entries_rewritten},
          {"unknownFacesStripped", unknown_faces_stripped}};
}

nlohmann::json ErasureReport::to_json() const {
  return {{"personId", person_id},
          {"db", db},
          {"attendancePolicy", to_string(attendance)},
          {"erasedAt", format_iso8601(erased_at)},
          {"effect", effect.to_json()},
          {"fileIds", effect.files_deleted},
          {"auditId", audit_id},
          {"ledger", ledger_path},
          {"ledgerAlreadyListed", ledger_already_listed}};
}

nlohmann::json ReapplyReport::to_json() const {
  return {{"records", records}, {"peopleChanged", people_changed}, {"effect", effect.to_json()}};
}

ErasureEffect apply_erasure(Database::WriteTransaction& tx, const std::string& person_id, AttendancePolicy policy,
                            const std::vector<std::string>& extra_file_ids, float unknown_face_distance) {
  ErasureEffect effect;
  tx.secure_delete();  // what this erasure deletes is overwritten, not left in free pages
  std::set<std::string> candidates(extra_file_ids.begin(), extra_file_ids.end());
  const auto found_profile = tx.get("faceprofiles", person_id);
  const PersonalStrings personal = personal_strings(person_id, found_profile);
  if (auto profile = found_profile)
    for_each_file_reference("faceprofiles", profile->get(), [&](const std::string& id) { candidates.insert(id); });
  // Read before the profile goes: its embeddings find the person among the unknown faces
  // (app/erasure_unknown_faces.h); its files and the ledger's are the crops already known to be theirs.
  const PersonsFaces persons = persons_faces(found_profile, candidates, unknown_face_distance);
  if (auto profile = found_profile) {
    effect.embeddings_removed = count_embeddings(*profile);
    effect.profiles_removed = tx.remove("faceprofiles", person_id) ? 1 : 0;
  }
  // Collected first: the store's find must not run while its own rows change underneath it.
  std::vector<Document> attendances;
  tx.find("attendances", Query{{{"personId", "=", person_id}}}, [&](const Document& d) {
    attendances.push_back(d);
    return true;
  });
  for (const auto& a : attendances) {
    if (policy == AttendancePolicy::kRemove) {
      effect.attendances_removed += tx.remove("attendances", *a.id_key()) ? 1 : 0;
    } else {
      tx.replace("attendances", anonymised(a));
      ++effect.attendances_anonymised;
    }
  }
  // Their face among the unknown faces: only records without a person hold any (the personId index).
  std::vector<Document> stripped;
  tx.find("attendances", Query{{{"personId", kIsNull, int64_t(0)}}}, [&](const Document& d) {
    if (auto s = without_persons_faces(d, persons, candidates, effect.unknown_faces_stripped)) stripped.push_back(std::move(*s));
    return true;
  });
  for (const auto& record : stripped) tx.replace("attendances", record);
  // Every entry is read: mentions of the person also sit in entries about others (enrollment warnings).
  std::vector<Document> scrubbed;
  tx.find("auditlogs", Query{}, [&](const Document& d) {
    if (auto s = scrubbed_audit_entry(d, personal)) scrubbed.push_back(std::move(*s));
    return true;
  });
  for (const auto& entry : scrubbed) {
    tx.replace("auditlogs", entry);
    ++effect.audit_entries_scrubbed;
  }
  // After the profile and attendances are gone, so their own references do not keep the files alive.
  for (const auto& id : unreferenced(tx, candidates, effect.files_kept_shared))
    if (remove_file(tx, id)) effect.files_deleted.push_back(id);

  const std::set<std::string> files(effect.files_deleted.begin(), effect.files_deleted.end());
  PersonsFaces persons_with_deleted_crops = persons;
  persons_with_deleted_crops.crop_file_ids.insert(files.begin(), files.end());
  effect.oplog_entries_rewritten = tx.rewrite_oplog([&](const OplogEntry& e) -> std::optional<Document> {
    if (e.op != 'i' && e.op != 'u') return std::nullopt;
    const std::string collection = e.collection();
    if (collection == "faceprofiles")
      return key_of(e.o.get(), "_id") == person_id ? std::optional(erased_note(e)) : std::nullopt;
    if (collection == "fs.files")
      return files.count(key_of(e.o.get(), "_id").value_or("")) ? std::optional(erased_note(e)) : std::nullopt;
    if (collection == "fs.chunks")
      return files.count(key_of(e.o.get(), "files_id").value_or("")) ? std::optional(erased_note(e)) : std::nullopt;
    if (collection == "attendances") {
      if (key_of(e.o.get(), "personId") != person_id) {
        // An unknown-faces record's earlier versions hold the person's crops and embeddings too (the face
        // assigned to them among them, before the assignment took it out of the record).
        std::set<std::string> crops;
        int64_t faces = 0;
        auto s = without_persons_faces(e.o, persons_with_deleted_crops, crops, faces);
        return s ? std::optional(encode_oplog_entry(e.ts, e.op, e.ns, s->get())) : std::nullopt;
      }
      if (policy == AttendancePolicy::kRemove) return erased_note(e);
      return encode_oplog_entry(e.ts, e.op, e.ns, anonymised(e.o).get());
    }
    if (collection == "auditlogs")
      if (auto s = scrubbed_audit_entry(e.o, personal)) return encode_oplog_entry(e.ts, e.op, e.ns, s->get());
    return std::nullopt;
  });
  return effect;
}

ErasureReport erase_person(const fs::path& data_root, const std::string& person_id, const ErasureOptions& options) {
  if (person_id.empty()) throw Error(ExitCode::kUsage, "person id is empty");
  auto dir = DataDir::open(data_root);
  auto db = Database::open(dir, options.db, {.create_if_missing = false});
  ErasureLedger ledger(data_root);
  auto tx = db->write();  // BEGIN IMMEDIATE: also serialises erasures, so ledger appends do not interleave
  if (!tx.get("faceprofiles", person_id)) {
    if (auto done = ledger.find(person_id))
      throw Error(ExitCode::kNotFound, "person '" + person_id + "' was already erased at " +
                                           format_iso8601(done->erased_at) + " by " + done->requested_by +
                                           " (erasure ledger '" + ledger.path().string() + "'); nothing changed");
    throw Error(ExitCode::kNotFound, "no face profile with id '" + person_id + "' in database '" + options.db +
                                         "'; nothing changed");
  }
  // Appending to a ledger that lost what this database recorded of it would hide the loss for good.
  if (auto recorded = recorded_ledger(*db)) {
    std::error_code ec;
    std::string text = fs::is_regular_file(ledger.path(), ec) ? read_file(ledger.path()) : std::string();
    if (!ledger_starts_with(text, *recorded))
      throw Error(ExitCode::kBadInput, "erasure refused: the erasure ledger '" + ledger.path().string() + "' " +
                                           (text.empty() ? std::string("is missing or empty") : "holds " + fingerprint_ledger(text).text()) +
                                           ", but database '" + options.db + "' recorded " + recorded->text() +
                                           ": erasures were lost. Run `facecrowd person erasures` for where an intact "
                                           "copy is, put it back, then erase again; nothing changed");
  }
  ErasureReport report;
  report.person_id = person_id;
  report.db = options.db;
  report.attendance = options.attendance;
  report.erased_at = now_millis();
  report.ledger_path = ledger.path().string();
  report.effect = apply_erasure(tx, person_id, options.attendance, {}, options.unknown_face_distance);

  AuditEntry audit;
  audit.action = "person.delete";
  audit.target = person_id;
  audit.actor = options.actor;
  audit.client_address = options.client_address;
  audit.timestamp = report.erased_at;
  audit.details = report.effect.to_json();
  audit.details["attendancePolicy"] = to_string(options.attendance);
  audit.details["ledger"] = ErasureLedger::kFileName;
  report.audit_id = append_audit(tx, audit);

  // Ledger first, then commit (see the header): the line is on disk before the erasure is visible.
  report.ledger_already_listed = ledger.find(person_id).has_value();
  if (!report.ledger_already_listed) {
    ErasureRecord record;
    record.person_id = person_id;
    record.erased_at = report.erased_at;
    record.db = options.db;
    record.attendance_policy = options.attendance;
    record.requested_by = options.actor.value_or(default_audit_actor());
    record.reason = options.reason;
    record.file_ids = report.effect.files_deleted;
    ledger.append(record);
  }
  record_ledger(*db, fingerprint_ledger(read_file(ledger.path())));  // inside `tx`: the erasure's own transaction
  // The person's vectors may sit in a gallery index cache (app/faces/gallery_index.h): drop every cache before
  // the commit, and again after it in case a concurrent `gallery index` wrote one from the old snapshot.
  drop_gallery_indexes(data_root);
  tx.commit();
  drop_gallery_indexes(data_root);
  // The old versions of the deleted pages are still in the WAL: copy it into the (zeroed) database and
  // truncate it. Readers can hold it open; then the next checkpoint finishes the job.
  report.wal_truncated = db->checkpoint_truncate();
  return report;
}

void ReapplyReport::include(const ReapplyReport& more) {
  records += more.records;
  people_changed += more.people_changed;
  add(effect, more.effect);
}

ReapplyReport reapply_erasures(Database::WriteTransaction& tx, const std::vector<ErasureRecord>& ledger,
                               float unknown_face_distance) {
  ReapplyReport report;
  report.records = int64_t(ledger.size());
  std::vector<std::string> changed_ids;
  for (const auto& record : ledger) {
    auto effect = apply_erasure(tx, record.person_id, record.attendance_policy, record.file_ids, unknown_face_distance);
    if (effect.changed()) {
      ++report.people_changed;
      changed_ids.push_back(record.person_id);
    }
    add(report.effect, effect);
  }
  if (report.effect.changed()) {
    AuditEntry audit;
    audit.action = "person.erasure.reapply";
    audit.details = report.effect.to_json();
    audit.details["records"] = report.records;
    audit.details["peopleChanged"] = report.people_changed;
    // The ids (pseudonymous, as person.delete's target): a restore replaces auditlogs with the backup's,
    // so this entry is what the restored audit log shows of the erasures it re-applied.
    audit.details["personIds"] = changed_ids;
    append_audit(tx, audit);
  }
  return report;
}

ReapplyReport reapply_erasures_live(const fs::path& data_root, const std::string& db_name, float unknown_face_distance) {
  auto dir = DataDir::open(data_root);
  auto db = Database::open(dir, db_name, {.create_if_missing = false});
  auto tx = db->write();
  auto report = reapply_erasures(tx, ErasureLedger(data_root).read(), unknown_face_distance);
  tx.commit();
  if (report.effect.changed()) db->checkpoint_truncate();
  if (report.effect.changed()) drop_gallery_indexes(data_root);
  return report;
}

}  // namespace facecrowd
