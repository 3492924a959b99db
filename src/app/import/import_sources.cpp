// Which dumped collections are imported, as what, and the mapping checked against them (app/import/import_run.h).
#include <algorithm>
#include <set>

#include "app/import/import_run.h"
#include "core/error.h"

namespace facecrowd {

ImportSourcesByTarget plan_import_sources(const MongoDump& dump, const ImportMapping& mapping,
                                          const ImportOptions& options, ImportReport& report,
                                          std::vector<ImportCollectionReport>& unknown) {
  report.source_db = options.source_db.empty() ? mapping.db : options.source_db;
  if (!dump.databases.count(report.source_db)) {
    std::string held;
    for (const auto& d : dump.databases) held += (held.empty() ? "'" : ", '") + d + "'";
    throw Error(ExitCode::kBadInput,
                "'" + dump.source + "' is a dump of database " + held + ", not '" + report.source_db + "' (" +
                    (options.source_db.empty() ? mapping.label + "'s \"db\"" : std::string("--source-db")) +
                    "); import it with --source-db " + (dump.databases.empty() ? std::string("NAME") : *dump.databases.begin()) +
                    " if it is the old system's data, or set \"db\" in the mapping; nothing was changed");
  }
  for (const auto& c : dump.collections)
    if (c.db != report.source_db)
      report.warnings.push_back("database '" + c.db + "' (collection " + c.name + ", " + std::to_string(c.documents) +
                                " documents) is not the one imported ('" + report.source_db + "'): left out");

  // The collections to import, by what they become.
  ImportSourcesByTarget by_as;
  for (const auto& c : dump.collections) {
    if (c.db != report.source_db) continue;
    report.documents_read += c.documents;
    const CollectionMapping* m = mapping.for_source(c.name);
    if (!m) {
      ImportCollectionReport r;
      r.source = c.name;
      r.documents = c.documents;
      std::string reason = c.name.rfind("system.", 0) == 0
                               ? "a MongoDB system collection: not application data"
                               : "the mapping does not map collection '" + c.name +
                                     "' and facecrowd has no collection of that name (add it to a --mapping file with "
                                     "\"as\" one of users, faceprofiles, attendances, crowdcounts, auditlogs to import it)";
      for (int64_t i = 0; i < c.documents; ++i) refuse(r, "", reason);
      r.refused_examples.clear();
      unknown.push_back(std::move(r));
      continue;
    }
    by_as[m->as].push_back({&c, m});
  }

  // The mapping against the data: every field it names (unless optional) occurs somewhere.
  for (const auto& [as, list] : by_as)
    for (const auto& [c, m] : list) {
      if (m->fields.empty() || c->documents == 0) continue;
      std::set<std::string> seen;
      StagedBsonReader reader(c->staged);
      const uint8_t* doc;
      size_t size;
      while (reader.next(&doc, &size)) collect_field_names(doc, size, seen);
      for (const auto& f : m->fields) {
        if (f.optional) continue;
        bool found = std::any_of(f.from.begin(), f.from.end(), [&](const std::string& s) { return seen.count(s) > 0; });
        if (found) continue;
        std::string from, fields;
        for (const auto& s : f.from) from += (from.empty() ? "'" : "', '") + s;
        for (const auto& s : seen) fields += (fields.empty() ? "" : ", ") + s;
        throw Error(ExitCode::kBadInput, mapping.label + ": collection '" + c->name + "', field '" + f.target +
                                             "' is taken from " + from + "', which no document of " + c->name + " (" +
                                             std::to_string(c->documents) + " documents) has; its documents have: " +
                                             fields + ". Fix \"from\" (or mark the field \"optional\": true); nothing was changed");
      }
    }
  return by_as;
}

}  // namespace facecrowd
