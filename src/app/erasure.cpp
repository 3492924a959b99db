#include "app/erasure.h"

#include <optional>
#include <set>
#include <string_view>

#include "app/audit.h"
#include "app/gallery_index.h"
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

// Audit entries about the person (target = their profile id: profile.enroll, profile.update) keep what
// happened, when and by whom, but lose what identifies the person: the name, changed values (name,
// external id, metadata), and the file paths of their photos (which often carry the name).
constexpr std::string_view kIdentifyingDetails[] = {"name", "changed", "duplicates", "warnings"};
constexpr std::string_view kErased = "erased";

bool is_identifying(std::string_view key) {
  for (auto k : kIdentifyingDetails)
    if (key == k) return true;
  return false;
}

// The entry with every identifying detail replaced by "erased"; nullopt when there was none to replace.
std::optional<Document> scrubbed_audit_entry(const Document& entry) {
  bson_t* out = bson_new();
  bool changed = false;
  bson_iter_t it, details;
  if (bson_iter_init(&it, entry.get())) {
    while (bson_iter_next(&it)) {
      if (std::string_view(bson_iter_key(&it)) != "details" || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
          !bson_iter_recurse(&it, &details)) {
        bson_append_iter(out, bson_iter_key(&it), -1, &it);
        continue;
      }
      bson_t child;
      bson_append_document_begin(out, "details", -1, &child);
      while (bson_iter_next(&details)) {
        std::string_view key = bson_iter_key(&details);
        bool already = BSON_ITER_HOLDS_UTF8(&details) && std::string_view(bson_iter_utf8(&details, nullptr)) == kErased;
        if (is_identifying(key) && !already) {
          bson_append_utf8(&child, key.data(), int(key.size()), kErased.data(), int(kErased.size()));
          changed = true;
        } else {
          bson_append_iter(&child, key.data(), int(key.size()), &details);
        }
      }
      bson_append_document_end(out, &child);
    }
  }
  if (!changed) {
    bson_destroy(out);
    return std::nullopt;
  }
  return Document(out);
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
}

}  // namespace

nlohmann::json ErasureEffect::to_json() const {
  return {{"profilesRemoved", profiles_removed},
          {"embeddingsRemoved", embeddings_removed},
          {"attendancesRemoved", attendances_removed},
          {"attendancesAnonymised", attendances_anonymised},
          {"filesDeleted", files_deleted.size()},
          {"filesKeptShared", files_kept_shared},
          {"auditEntriesScrubbed", audit_entries_scrubbed}};
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
                            const std::vector<std::string>& extra_file_ids) {
  ErasureEffect effect;
  std::set<std::string> candidates(extra_file_ids.begin(), extra_file_ids.end());
  if (auto profile = tx.get("faceprofiles", person_id)) {
    for_each_file_reference("faceprofiles", profile->get(), [&](const std::string& id) { candidates.insert(id); });
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
  std::vector<Document> entries;
  tx.find("auditlogs", Query{{{"target", "=", person_id}}}, [&](const Document& d) {
    entries.push_back(d);
    return true;
  });
  for (const auto& entry : entries) {
    if (auto scrubbed = scrubbed_audit_entry(entry)) {
      tx.replace("auditlogs", *scrubbed);
      ++effect.audit_entries_scrubbed;
    }
  }
  // After the profile and attendances are gone, so their own references do not keep the files alive.
  for (const auto& id : unreferenced(tx, candidates, effect.files_kept_shared))
    if (remove_file(tx, id)) effect.files_deleted.push_back(id);
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
  report.effect = apply_erasure(tx, person_id, options.attendance);

  AuditEntry audit;
  audit.action = "person.delete";
  audit.target = person_id;
  audit.actor = options.actor;
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
  // The person's vectors may sit in a gallery index cache (app/gallery_index.h): drop every cache before
  // the commit, and again after it in case a concurrent `gallery index` wrote one from the old snapshot.
  drop_gallery_indexes(data_root);
  tx.commit();
  drop_gallery_indexes(data_root);
  return report;
}

ReapplyReport reapply_erasures(Database::WriteTransaction& tx, const std::vector<ErasureRecord>& ledger) {
  ReapplyReport report;
  report.records = int64_t(ledger.size());
  std::vector<std::string> changed_ids;
  for (const auto& record : ledger) {
    auto effect = apply_erasure(tx, record.person_id, record.attendance_policy, record.file_ids);
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

ReapplyReport reapply_erasures_live(const fs::path& data_root, const std::string& db_name) {
  auto dir = DataDir::open(data_root);
  auto db = Database::open(dir, db_name, {.create_if_missing = false});
  auto tx = db->write();
  auto report = reapply_erasures(tx, ErasureLedger(data_root).read());
  tx.commit();
  if (report.effect.changed()) drop_gallery_indexes(data_root);
  return report;
}

}  // namespace facecrowd
