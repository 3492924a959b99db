// The helpers and ImportRun members the import's sections share (app/import/import_run.h).
#include <bson/bson.h>

#include "app/import/import_run.h"
#include "core/object_id.h"

namespace facecrowd {
namespace {

constexpr size_t kMaxExamples = 5;

}  // namespace

void ImportRun::say(const std::string& line) const {
  if (options.progress) options.progress(line);
}

ImportSourceList ImportRun::first(const std::string& as) const {
  auto it = by_as.find(as);
  return it == by_as.end() ? ImportSourceList{} : it->second;
}

ImportCollectionReport& ImportRun::report_for(const DumpCollection* c, const CollectionMapping* m) {
  mapped_reports.push_back({});
  auto& r = mapped_reports.back();
  r.source = c->name;
  r.as = m->as;
  r.documents = c->documents;
  return r;
}

void refuse(ImportCollectionReport& r, const std::string& id, const std::string& reason) {
  r.refused++;
  r.refusals[reason]++;
  if (r.refused_examples.size() < kMaxExamples) r.refused_examples.push_back((id.empty() ? "(no _id)" : id) + ": " + reason);
}

void count_legacy(ImportCollectionReport& r, const MappedDocument& d) {
  for (const auto& f : d.legacy_fields()) r.legacy_fields[f]++;
}

bool claim_id(ImportRun& run, ImportCollectionReport& r, const MappedDocument& d, const std::string& as) {
  if (!d.id_key().empty() && run.seen_ids[as].insert(d.id_key()).second) return true;
  refuse(r, d.id_key(), d.id_key().empty() ? "no _id of a usable type" : "a second document with this _id");
  return false;
}

std::optional<std::string> mapped_text(const MappedDocument& d, const CollectionMapping& m, const std::string& target,
                                       std::string& why) {
  const FieldMapping* f = m.field(target);
  auto it = f ? d.field(target) : std::nullopt;
  if (!it) {
    if (f && f->default_value && f->default_value->is_string()) return f->default_value->get<std::string>();
    why = "no " + target + (f ? " (" + f->from.front() + ")" : "");
    return std::nullopt;
  }
  std::optional<std::string> text = import_text(*it);
  if (!text && (target == "actor" || target == "target" || target == "person"))
    text = import_object_id(*it);  // an ObjectId reference read as its hex
  if (!text) {
    why = target + " is not text";
    return std::nullopt;
  }
  if (!f->values.empty()) {
    auto v = f->values.find(*text);
    if (v == f->values.end()) {
      why = target + " '" + *text + "' is not among the mapping's values";
      return std::nullopt;
    }
    return v->second;
  }
  return text;
}

void append_oid_or_text(bson_t* out, const char* key, const std::string& id) {
  if (is_object_id(id)) {
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, id.c_str());
    BSON_APPEND_OID(out, key, &oid);
  } else {
    BSON_APPEND_UTF8(out, key, id.c_str());
  }
}

std::optional<int64_t> mapped_date(const MappedDocument& d, const std::string& target) {
  auto it = d.field(target);
  return it ? import_date_millis(*it) : std::nullopt;
}

}  // namespace facecrowd
