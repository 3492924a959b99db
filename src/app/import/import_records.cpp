// Sections 4-6 of the import: attendances, crowd counts and audit logs, the records that point at what
// sections 1-3 imported (profiles, files, users) (app/import/import_run.h).
#include "app/import/import_run.h"
#include "store/audit_seal.h"

namespace facecrowd {

// 4. Attendances.
void import_attendances(ImportRun& run) {
  for (const auto& [c, m] : run.first("attendances")) {
    run.say("importing " + c->name);
    auto& r = run.report_for(c, m);
    int64_t photos_missing = 0;
    for_each_mapped_document(*c, *m, [&](MappedDocument& d) {
      std::string why;
      auto person_it = d.field("person");
      auto person = person_it ? import_object_id(*person_it) : std::nullopt;
      if (person_it && !person) person = import_text(*person_it);
      auto ts = mapped_date(d, "timestamp");
      auto session = mapped_text(d, *m, "session", why);
      if (!person) {
        refuse(r, d.id_key(), person_it ? "person reference is not an id" : "no person reference");
        return;
      }
      if (!ts) {
        refuse(r, d.id_key(), d.field("timestamp") ? "timestamp is not a date" : "no timestamp");
        return;
      }
      if (!session) {
        refuse(r, d.id_key(), why);
        return;
      }
      auto name = run.profile_names.find(*person);
      if (name == run.profile_names.end()) {
        refuse(r, d.id_key(), "refers to profile " + *person + ", which is not among the imported profiles");
        return;
      }
      if (!claim_id(run, r, d, m->as)) return;
      bson_t* out = bson_new();
      d.append_id(out);
      append_oid_or_text(out, "personId", *person);
      BSON_APPEND_UTF8(out, "personName", name->second.c_str());
      BSON_APPEND_UTF8(out, "session", session->c_str());
      BSON_APPEND_DATE_TIME(out, "timestamp", *ts);
      auto conf = d.field("confidence");
      auto conf_v = conf ? import_number(*conf) : std::nullopt;
      if (conf_v) BSON_APPEND_DOUBLE(out, "confidence", *conf_v);
      else BSON_APPEND_NULL(out, "confidence");
      BSON_APPEND_NULL(out, "box");
      std::optional<std::string> photo;
      if (auto ph = d.field("photo"))
        if (auto id = import_object_id(*ph)) {
          if (auto s = run.file_ids.find(*id); s != run.file_ids.end()) photo = s->second;
          else ++photos_missing;
        }
      if (photo) append_oid_or_text(out, "photoFileId", *photo);
      else BSON_APPEND_NULL(out, "photoFileId");
      BSON_APPEND_BOOL(out, "archived", false);
      d.append_legacy(out);
      count_legacy(r, d);
      run.writer.insert("attendances", out);
      r.imported++;
    });
    if (photos_missing > 0)
      r.notes.push_back(std::to_string(photos_missing) + " records name a photo that is not among the imported files (photoFileId null)");
    run.writer.commit();
  }
}

// 5. Crowd counts.
void import_crowd_counts(ImportRun& run) {
  for (const auto& [c, m] : run.first("crowdcounts")) {
    run.say("importing " + c->name);
    auto& r = run.report_for(c, m);
    for_each_mapped_document(*c, *m, [&](MappedDocument& d) {
      std::string why;
      auto location = mapped_text(d, *m, "location", why);
      auto count_it = d.field("count");
      auto count = count_it ? import_number(*count_it) : std::nullopt;
      auto ts = mapped_date(d, "timestamp");
      if (!location || location->empty()) {
        refuse(r, d.id_key(), location ? "empty location" : why);
        return;
      }
      if (!count || *count < 0) {
        refuse(r, d.id_key(), count_it ? "count is not a number >= 0" : "no count");
        return;
      }
      if (!ts) {
        refuse(r, d.id_key(), d.field("timestamp") ? "timestamp is not a date" : "no timestamp");
        return;
      }
      if (!claim_id(run, r, d, m->as)) return;
      bson_t* out = bson_new();
      d.append_id(out);
      BSON_APPEND_UTF8(out, "location", location->c_str());
      BSON_APPEND_DATE_TIME(out, "timestamp", *ts);
      BSON_APPEND_DOUBLE(out, "count", *count);
      BSON_APPEND_UTF8(out, "modelVersion", "imported");
      std::optional<std::string> image;
      if (auto im = d.field("image"))
        if (auto id = import_object_id(*im))
          if (auto s = run.file_ids.find(*id); s != run.file_ids.end()) image = s->second;
      if (image) append_oid_or_text(out, "imageFileId", *image);
      else BSON_APPEND_NULL(out, "imageFileId");
      BSON_APPEND_NULL(out, "densityMapFileId");
      BSON_APPEND_NULL(out, "heatmapFileId");
      BSON_APPEND_BOOL(out, "archived", false);
      d.append_legacy(out);
      count_legacy(r, d);
      run.writer.insert("crowdcounts", out);
      r.imported++;
    });
    run.writer.commit();
  }
}

// 6. Audit logs: each becomes a link of facecrowd's audit chain, its own fields under details.legacy.
void import_audit_logs(ImportRun& run) {
  for (const auto& [c, m] : run.first("auditlogs")) {
    run.say("importing " + c->name);
    auto& r = run.report_for(c, m);
    for_each_mapped_document(*c, *m, [&](MappedDocument& d) {
      std::string why;
      auto action = mapped_text(d, *m, "action", why);
      auto ts = mapped_date(d, "timestamp");
      auto actor = mapped_text(d, *m, "actor", why);
      auto outcome = mapped_text(d, *m, "outcome", why);
      if (!action || action->empty()) {
        refuse(r, d.id_key(), action ? "empty action" : why);
        return;
      }
      if (!ts) {
        refuse(r, d.id_key(), d.field("timestamp") ? "timestamp is not a date" : "no timestamp");
        return;
      }
      if (!actor || !outcome) {
        refuse(r, d.id_key(), why);
        return;
      }
      if (d.id_is_object_id() && !run.seen_ids[m->as].insert(d.id_key()).second) {
        refuse(r, d.id_key(), "a second document with this _id");
        return;
      }
      if (auto u = run.usernames.find(*actor); u != run.usernames.end()) *actor = "user:" + u->second;
      std::string target_why;
      std::string target = mapped_text(d, *m, "target", target_why).value_or("");
      std::string client = mapped_text(d, *m, "clientAddress", target_why).value_or("legacy");
      bson_t* out = bson_new();
      if (d.id_is_object_id()) d.append_id(out);
      BSON_APPEND_DATE_TIME(out, "timestamp", *ts);
      BSON_APPEND_UTF8(out, "actor", actor->c_str());
      BSON_APPEND_UTF8(out, "action", action->c_str());
      BSON_APPEND_UTF8(out, "target", target.c_str());
      BSON_APPEND_UTF8(out, "outcome", outcome->c_str());
      BSON_APPEND_UTF8(out, "clientAddress", client.c_str());
      bson_t details;
      BSON_APPEND_DOCUMENT_BEGIN(out, "details", &details);
      BSON_APPEND_BOOL(&details, "imported", true);
      if (!d.id_is_object_id() && !d.id_key().empty()) BSON_APPEND_UTF8(&details, "legacyId", d.id_key().c_str());
      d.append_legacy(&details);
      bson_append_document_end(out, &details);
      count_legacy(r, d);
      run.writer.write(out, [](Database::WriteTransaction& tx, Document entry) { insert_sealed_audit_entry(tx, std::move(entry)); });
      r.imported++;
    });
    run.writer.commit();
  }
}

}  // namespace facecrowd
