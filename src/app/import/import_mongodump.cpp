#include "app/import/import_mongodump.h"

#include <bson/bson.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <set>
#include <unordered_set>

#include "app/audit.h"
#include "app/gallery_loader.h"
#include "app/import/gridfs_source.h"
#include "app/import/import_mapping.h"
#include "app/import/mapped_document.h"
#include "app/import/profile_embeddings.h"
#include "backup/mongodump_reader.h"
#include "core/error.h"
#include "core/files.h"
#include "core/input_files.h"
#include "core/object_id.h"
#include "core/sha256.h"
#include "core/utc_time.h"
#include "store/audit_seal.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "store/file_store.h"
#include "store/schema.h"

namespace facecrowd {
namespace {

constexpr size_t kMaxExamples = 5;
constexpr int64_t kBatchDocuments = 2000;
constexpr uint64_t kMaxMappingBytes = 1 << 20;

using Vec = ImportVector;

// ---- staging folder and the generation being built ----

struct Staging {
  fs::path dir;
  explicit Staging(const fs::path& parent) {
    std::string pattern = (parent / "facecrowd-import-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw_io_error("cannot create the import's staging folder in", parent, errno);
    dir = pattern;
  }
  ~Staging() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

struct Generation {
  fs::path file, created_folder;
  std::unique_ptr<Database> db;
  bool installed = false;
  ~Generation() {
    if (installed || file.empty()) return;
    db.reset();
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(fs::path(file.string() + suffix), ec);
    if (!created_folder.empty()) fs::remove(created_folder, ec);
  }
};

// Writes in transactions of kBatchDocuments documents; in a dry run there is no database and nothing is written.
class Writer {
 public:
  explicit Writer(Database* db) : db_(db) {}
  bool active() const { return db_ != nullptr; }
  Database::WriteTransaction& tx() {
    if (!tx_) tx_.emplace(db_->write());
    return *tx_;
  }
  void done_one() {
    if (++pending_ >= kBatchDocuments) commit();
  }
  void commit() {
    if (tx_) tx_->commit();
    tx_.reset();
    pending_ = 0;
  }

 private:
  Database* db_;
  std::optional<Database::WriteTransaction> tx_;
  int64_t pending_ = 0;
};

// ---- small helpers ----

void refuse(ImportCollectionReport& r, const std::string& id, const std::string& reason) {
  r.refused++;
  r.refusals[reason]++;
  if (r.refused_examples.size() < kMaxExamples) r.refused_examples.push_back((id.empty() ? "(no _id)" : id) + ": " + reason);
}

void count_legacy(ImportCollectionReport& r, const MappedDocument& d) {
  for (const auto& f : d.legacy_fields()) r.legacy_fields[f]++;
}

bool is_bcrypt(const std::string& h) {
  return h.size() == 60 && (h.rfind("$2a$", 0) == 0 || h.rfind("$2b$", 0) == 0 || h.rfind("$2y$", 0) == 0);
}

bool valid_username(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@';
  });
}

// The text for `target`: the document's value (translated through `values` when the mapping has them),
// else the default. nullopt with `why` when absent without default, not text, or not in `values`.
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

std::optional<Vec> unit_vector(const std::vector<double>& v, float& norm) {
  double s = 0;
  for (double x : v) s += x * x;
  norm = float(std::sqrt(s));
  if (!(norm > 1e-6f) || !std::isfinite(norm)) return std::nullopt;
  Vec out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = float(v[i] / norm);
  return out;
}

}  // namespace

int ImportReport::exit_code() const {
  for (const auto& c : collections)
    if (c.refused > 0) return 1;
  return flagged.empty() && warnings.empty() ? 0 : 1;
}

nlohmann::json ImportReport::to_json() const {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : collections)
    cols.push_back({{"source", c.source}, {"as", c.as.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.as)},
                    {"documents", c.documents}, {"imported", c.imported}, {"refused", c.refused},
                    {"legacyFields", c.legacy_fields}, {"refusals", c.refusals},
                    {"refusedExamples", c.refused_examples}, {"notes", c.notes}});
  nlohmann::json flagged_json = nlohmann::json::array();
  for (const auto& f : flagged) flagged_json.push_back({{"id", f.id}, {"name", f.name}, {"reason", f.reason}});
  nlohmann::json j = {
      {"source", source}, {"shape", shape}, {"sourceDb", source_db}, {"mapping", mapping}, {"dryRun", dry_run},
      {"collections", cols}, {"ignored", ignored},
      {"files", {{"imported", files_imported}, {"md5Checked", files_md5_checked}, {"deduplicated", files_deduplicated}}},
      {"embeddings",
       {{"decision", embedding_decision}, {"profilesWithDescriptors", profiles_with_descriptors},
        {"profilesWithImages", profiles_with_images}, {"sampleChecked", sample_checked},
        {"sampleWithoutFace", sample_without_face}, {"sampleMaxDistance", sample_max_distance},
        {"profilesReembedded", profiles_reembedded}, {"embeddingsImported", embeddings_imported},
        {"embeddingsComputed", embeddings_computed}}},
      {"flaggedProfiles", flagged_json}, {"warnings", warnings},
      {"documentsRead", documents_read}, {"documentsImported", documents_imported}, {"seconds", seconds},
      {"documentsPerSecond", seconds > 0 ? double(documents_read) / seconds : 0.0},
      {"exitCode", exit_code()}};
  if (!dry_run) {
    j["auditId"] = audit_id;
    j["countsAfter"] = counts_after;
  }
  return j;
}

ImportReport import_mongodump(const fs::path& data_root, const ImportOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  const std::string db_name(kDefaultDatabase);

  // The mapping first: a bad one is refused before any work.
  ImportMapping mapping = options.mapping_file
                              ? ImportMapping::parse(read_regular_file(*options.mapping_file, kMaxMappingBytes, "mapping"),
                                                     "mapping '" + options.mapping_file->string() + "'")
                              : ImportMapping::default_mapping();
  ImportReport report;
  report.dry_run = options.dry_run;
  report.mapping = options.mapping_file ? options.mapping_file->string() : "default";

  // The target must be new or empty; checked before the dump is read, and again under the lock.
  auto live_documents = [&](const DataDir& dir) {
    std::string list;
    int64_t total = 0;
    if (!dir.database_exists(db_name)) return std::make_pair(total, list);
    auto live = Database::open(dir, db_name, {.create_if_missing = false});
    auto r = live->read();
    for (const auto& spec : collection_specs()) {
      int64_t n = r.count(spec.name);
      if (n > 0) list += (list.empty() ? "" : ", ") + spec.name + ": " + std::to_string(n);
      total += n;
    }
    return std::make_pair(total, list);
  };
  auto not_empty = [&](const std::pair<int64_t, std::string>& live) {
    return Error(ExitCode::kConflict, "data directory '" + data_root.string() + "' already holds " +
                                          std::to_string(live.first) + " documents (" + live.second +
                                          "); import only into a new or empty data directory (e.g. --data NEW_DIR), "
                                          "so nothing is merged into live data; nothing was changed");
  };
  // Checked here without creating anything (a bad dump must not leave a data directory behind), and again
  // under the exclusive lock once the dump has been read and the mapping checked.
  std::optional<DataDir> data;
  std::shared_ptr<DataDirLock> lock;
  std::error_code ec;
  if (fs::exists(data_root / "facecrowd-data.json", ec)) {
    auto live = live_documents(DataDir::open(data_root));
    if (live.first > 0 && !options.dry_run) throw not_empty(live);
    if (live.first > 0) report.warnings.push_back(not_empty(live).what());
  } else if (!options.dry_run && fs::exists(data_root, ec) && !fs::is_empty(data_root, ec)) {
    DataDir::open(data_root);  // Error(kNotOurs): a non-empty folder facecrowd did not create
  }

  // Stage the dump.
  fs::path parent = options.staging_parent.empty() ? fs::temp_directory_path() : options.staging_parent;
  Staging staging(parent);
  say("reading " + (options.input == "-" ? std::string("standard input") : options.input));
  MongoDump dump = stage_mongodump(options.input, staging.dir);
  report.source = dump.source;
  report.shape = dump.shape;
  report.ignored = dump.ignored;
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
  std::map<std::string, std::vector<std::pair<const DumpCollection*, const CollectionMapping*>>> by_as;
  std::vector<ImportCollectionReport> unknown;
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

  // The generation the import builds (not in a dry run).
  Generation gen;
  if (!options.dry_run) {
    data = DataDir::open(data_root);
    lock = data->lock(LockMode::kExclusive);
    auto live = live_documents(*data);
    if (live.first > 0) throw not_empty(live);
    if (!fs::exists(data->root() / db_name, ec)) gen.created_folder = data->root() / db_name;
    gen.file = data->next_generation_file(db_name);
    gen.db = Database::open_generation(gen.file, db_name, false);
  }
  Writer writer(gen.db.get());
  auto first = [&](const std::string& as) -> std::vector<std::pair<const DumpCollection*, const CollectionMapping*>> {
    auto it = by_as.find(as);
    return it == by_as.end() ? std::vector<std::pair<const DumpCollection*, const CollectionMapping*>>{} : it->second;
  };
  std::vector<ImportCollectionReport> mapped_reports;
  mapped_reports.reserve(dump.collections.size());
  auto report_for = [&](const DumpCollection* c, const CollectionMapping* m) -> ImportCollectionReport& {
    mapped_reports.push_back({});
    auto& r = mapped_reports.back();
    r.source = c->name;
    r.as = m->as;
    r.documents = c->documents;
    return r;
  };

  // The _ids taken in each facecrowd collection: a second document with one is refused (the store keys by _id).
  std::map<std::string, std::unordered_set<std::string>> seen_ids;

  // Which kind each referenced file is (what points to it decides).
  std::map<std::string, FileKind> referenced_kind;
  auto collect_refs = [&](const std::string& as, const std::string& target, FileKind kind) {
    for (const auto& [c, m] : first(as)) {
      if (!m->field(target)) continue;
      StagedBsonReader reader(c->staged);
      const uint8_t* doc;
      size_t size;
      while (reader.next(&doc, &size)) {
        MappedDocument d(doc, size, *m);
        if (auto it = d.field(target))
          if (auto ids = import_object_ids(*it))
            for (const auto& id : *ids) referenced_kind.emplace(id, kind);
      }
    }
  };
  collect_refs("faceprofiles", "images", FileKind::kFacialImage);
  collect_refs("attendances", "photo", FileKind::kGroupPhoto);
  collect_refs("crowdcounts", "image", FileKind::kCrowdImage);

  // 1. GridFS.
  std::map<std::string, std::string> file_ids;  // old id -> stored id
  std::map<std::string, std::string> stored_to_old;  // stored id -> the first old id with those bytes
  auto files_m = first("fs.files");
  auto chunks_m = first("fs.chunks");
  const DumpCollection* files_c = files_m.empty() ? nullptr : files_m.front().first;
  const DumpCollection* chunks_c = chunks_m.empty() ? nullptr : chunks_m.front().first;
  GridFsSource gridfs(files_c, chunks_c);
  if (files_c) {
    say("importing " + std::to_string(gridfs.files().size()) + " GridFS files");
    auto& r = report_for(files_c, files_m.front().second);
    ImportCollectionReport* chunks_r = chunks_c ? &report_for(chunks_c, chunks_m.front().second) : nullptr;
    std::map<std::string, std::string> by_sha;
    FileKind default_kind = FileKind::kFacialImage;
    try {
      default_kind = parse_file_kind(files_m.front().second->kind);
    } catch (const Error& e) {
      throw Error(ExitCode::kBadInput, mapping.label + ": fs.files \"kind\": " + e.what());
    }
    for (const auto& f : gridfs.files()) {
      AssembledFile a = gridfs.assemble(f);
      if (!a.refused.empty()) {
        refuse(r, f.id, a.refused);
        if (chunks_r)
          for (int64_t i = 0; i < gridfs.chunks_of(f.id); ++i) refuse(*chunks_r, f.id, "chunk of a refused file");
        continue;
      }
      if (a.md5_checked) report.files_md5_checked++;
      std::string sha = sha256_hex(a.bytes);
      FileKind kind = default_kind;
      if (auto k = referenced_kind.find(f.id); k != referenced_kind.end()) kind = k->second;
      else if (f.metadata_kind) try {
          kind = parse_file_kind(*f.metadata_kind);
        } catch (const Error&) {
        }
      std::string stored = f.id;
      if (auto same = by_sha.find(sha); same != by_sha.end()) {
        stored = same->second;
        report.files_deduplicated++;
        r.notes.push_back("file " + f.id + " has the same bytes as " + stored + ": stored once, references point to " + stored);
      } else if (writer.active()) {
        NewFile nf;
        nf.filename = f.filename.empty() ? f.id : f.filename;
        nf.content_type = f.content_type.empty() ? "application/octet-stream" : f.content_type;
        nf.kind = kind;
        nf.upload_date = f.upload_date;
        if (is_object_id(f.id)) nf.id = f.id;
        stored = put_file(writer.tx(), a.bytes, nf);
        writer.done_one();
      } else if (!is_object_id(f.id)) {
        stored = new_object_id();
      }
      by_sha.emplace(sha, stored);
      file_ids[f.id] = stored;
      stored_to_old.emplace(stored, f.id);
      r.imported++;
      report.files_imported++;
      if (chunks_r) chunks_r->imported += gridfs.chunks_of(f.id);
    }
    if (chunks_r) {
      for (int64_t i = 0; i < gridfs.orphan_chunks(); ++i) refuse(*chunks_r, "", "belongs to no document of fs.files");
      for (int64_t i = 0; i < gridfs.malformed_chunks(); ++i) refuse(*chunks_r, "", "not a GridFS chunk {files_id, n, data}");
    }
    writer.commit();
  } else if (chunks_c) {
    auto& r = report_for(chunks_c, chunks_m.front().second);
    for (int64_t i = 0; i < chunks_c->documents; ++i) refuse(r, "", "fs.chunks without fs.files: the files cannot be rebuilt");
  }

  // 2. Users.
  std::map<std::string, std::string> usernames;  // user _id -> username (audit actors)
  for (const auto& [c, m] : first("users")) {
    say("importing " + c->name);
    auto& r = report_for(c, m);
    std::set<std::string> taken;
    StagedBsonReader reader(c->staged);
    const uint8_t* doc;
    size_t size;
    while (reader.next(&doc, &size)) {
      MappedDocument d(doc, size, *m);
      std::string why;
      auto username = mapped_text(d, *m, "username", why);
      auto role = username ? mapped_text(d, *m, "role", why) : std::nullopt;
      if (!username || !role) {
        refuse(r, d.id_key(), why);
        continue;
      }
      if (d.id_key().empty() || !seen_ids[m->as].insert(d.id_key()).second) {
        refuse(r, d.id_key(), d.id_key().empty() ? "no _id of a usable type" : "a second document with this _id");
        continue;
      }
      if (!valid_username(*username)) {
        refuse(r, d.id_key(), "username '" + *username + "' is not 1-64 letters, digits, '.', '_', '-' or '@'");
        continue;
      }
      if (*role != "admin" && *role != "operator" && *role != "viewer") {
        refuse(r, d.id_key(), "role '" + *role + "' is not admin, operator or viewer (map it in \"values\")");
        continue;
      }
      if (!taken.insert(*username).second) {
        refuse(r, d.id_key(), "username '" + *username + "' is used by an earlier document");
        continue;
      }
      std::string hash;
      if (auto h = d.field("passwordHash")) {
        auto text = import_text(*h);
        if (text && is_bcrypt(*text)) hash = *text;
        else d.keep_in_legacy("passwordHash");
      }
      if (hash.empty()) r.notes.push_back("user '" + *username + "' has no bcrypt password hash: set one with `facecrowd users reset-password " + *username + " --password-stdin`");
      const int64_t now = now_millis();
      bson_t* out = bson_new();
      d.append_id(out);
      BSON_APPEND_UTF8(out, "kind", "user");
      BSON_APPEND_UTF8(out, "username", username->c_str());
      if (auto e = d.field("email")) {
        if (auto t = import_text(*e)) BSON_APPEND_UTF8(out, "email", t->c_str());
      }
      BSON_APPEND_UTF8(out, "role", role->c_str());
      if (!hash.empty()) BSON_APPEND_UTF8(out, "passwordHash", hash.c_str());
      auto dis = d.field("disabled");
      BSON_APPEND_BOOL(out, "disabled", dis ? import_bool(*dis).value_or(false) : false);
      BSON_APPEND_DATE_TIME(out, "createdAt", mapped_date(d, "createdAt").value_or(now));
      BSON_APPEND_DATE_TIME(out, "updatedAt", mapped_date(d, "updatedAt").value_or(now));
      d.append_legacy(out);
      count_legacy(r, d);
      if (writer.active()) {
        writer.tx().insert("users", Document(out));
        writer.done_one();
      } else {
        bson_destroy(out);
      }
      usernames[d.id_key()] = *username;
      r.imported++;
    }
    writer.commit();
  }

  // 3. Face profiles: read, check the descriptors against facecrowd's model, write.
  std::vector<ImportedProfile> profiles;
  for (const auto& [c, m] : first("faceprofiles")) {
    say("reading " + c->name);
    auto& r = report_for(c, m);
    StagedBsonReader reader(c->staged);
    const uint8_t* doc;
    size_t size;
    while (reader.next(&doc, &size)) {
      MappedDocument d(doc, size, *m);
      std::string why;
      auto name = mapped_text(d, *m, "name", why);
      if (!name || name->empty()) {
        refuse(r, d.id_key(), name ? "empty name" : why);
        continue;
      }
      if (d.id_key().empty() || !seen_ids[m->as].insert(d.id_key()).second) {
        refuse(r, d.id_key(), d.id_key().empty() ? "no _id of a usable type" : "a second document with this _id");
        continue;
      }
      ImportedProfile p;
      p.id = d.id_key();
      p.name = *name;
      if (auto e = d.field("externalId")) {
        p.external_id = import_text(*e);
        if (!p.external_id) {
          if (auto n = import_number(*e)) p.external_id = std::to_string(int64_t(*n));
        }
      }
      p.created = mapped_date(d, "createdAt");
      p.updated = mapped_date(d, "updatedAt");
      if (auto it = d.field("descriptors")) {
        std::string dwhy;
        if (auto ds = import_descriptors(*it, dwhy)) {
          for (const auto& v : *ds) {
            float norm = 0;
            if (auto u = unit_vector(v, norm)) {
              p.descriptors.push_back(*u);
              p.descriptor_norms.push_back(norm);
            } else {
              p.notes.push_back("a descriptor of zero length was left out");
            }
          }
        } else {
          p.notes.push_back("descriptors not usable (" + dwhy + "); kept under legacy");
          d.keep_in_legacy("descriptors");
        }
      }
      if (auto it = d.field("images")) {
        if (auto ids = import_object_ids(*it)) {
          for (const auto& id : *ids) {
            auto stored = file_ids.find(id);
            if (stored == file_ids.end()) {
              p.notes.push_back("image " + id + " is not among the imported GridFS files");
              continue;
            }
            if (std::find(p.images.begin(), p.images.end(), stored->second) == p.images.end()) p.images.push_back(stored->second);
          }
        } else {
          p.notes.push_back("image ids are not ObjectIds; kept under legacy");
          d.keep_in_legacy("images");
        }
      }
      // The legacy part is rebuilt from the source when writing; keep the source bytes and which fields are legacy.
      p.source.assign(reinterpret_cast<const char*>(doc), size);
      count_legacy(r, d);
      if (!p.descriptors.empty()) report.profiles_with_descriptors++;
      if (!p.images.empty()) report.profiles_with_images++;
      profiles.push_back(std::move(p));
      r.imported++;
    }
  }

  EmbeddingCheck check{options.check_sample, options.agree_distance, options.models_dir};
  auto image_bytes = [&](const std::string& stored_id) -> std::optional<std::string> {
    auto old = stored_to_old.find(stored_id);
    if (old == stored_to_old.end()) return std::nullopt;
    const GridFsFile* f = gridfs.file(old->second);
    if (!f) return std::nullopt;
    AssembledFile a = gridfs.assemble(*f);
    if (!a.refused.empty()) return std::nullopt;
    return a.bytes;
  };
  EmbeddingOutcome emb = settle_profile_embeddings(profiles, image_bytes, check, say);
  report.embedding_decision = emb.decision;
  report.sample_checked = emb.sample_checked;
  report.sample_without_face = emb.sample_without_face;
  report.sample_max_distance = emb.sample_max_distance;
  report.profiles_reembedded = emb.profiles_reembedded;
  report.embeddings_imported = emb.embeddings_imported;
  report.embeddings_computed = emb.embeddings_computed;
  report.flagged = emb.flagged;
  for (auto& w : emb.warnings) report.warnings.push_back(w);

  // Write the profiles.
  if (!profiles.empty()) {
    const CollectionMapping* m = first("faceprofiles").front().second;
    for (const auto& p : profiles) {
      MappedDocument d(reinterpret_cast<const uint8_t*>(p.source.data()), p.source.size(), *m);
      // The same decisions as when reading: unusable descriptors/images go to legacy.
      for (const auto& n : p.notes) {
        if (n.rfind("descriptors not usable", 0) == 0) d.keep_in_legacy("descriptors");
        if (n.rfind("image ids are not", 0) == 0) d.keep_in_legacy("images");
      }
      if (!writer.active()) continue;
      const int64_t now = now_millis();
      bson_t* out = bson_new();
      d.append_id(out);
      BSON_APPEND_UTF8(out, "name", p.name.c_str());
      if (p.external_id) BSON_APPEND_UTF8(out, "externalId", p.external_id->c_str());
      else BSON_APPEND_NULL(out, "externalId");
      bson_t meta;
      BSON_APPEND_DOCUMENT_BEGIN(out, "metadata", &meta);
      bson_append_document_end(out, &meta);
      BSON_APPEND_NULL(out, "consent");
      bson_t arr;
      BSON_APPEND_ARRAY_BEGIN(out, "embeddings", &arr);
      for (size_t i = 0; i < p.embeddings.size(); ++i) {
        const auto& e = p.embeddings[i];
        bson_t* eb = bson_new();
        bson_oid_t oid;
        bson_oid_init(&oid, nullptr);
        BSON_APPEND_OID(eb, "_id", &oid);
        append_embedding_vector(eb, "vector", e.unit);
        BSON_APPEND_UTF8(eb, "modelVersion", e.model.c_str());
        if (e.source_file) append_oid_or_text(eb, "sourceFileId", *e.source_file);
        Document q = Document::from_json(e.quality, "embedding quality");
        BSON_APPEND_DOCUMENT(eb, "quality", q.get());
        std::string key = std::to_string(i);
        BSON_APPEND_DOCUMENT(&arr, key.c_str(), eb);
        bson_destroy(eb);
      }
      bson_append_array_end(out, &arr);
      BSON_APPEND_ARRAY_BEGIN(out, "facialImageIds", &arr);
      for (size_t i = 0; i < p.images.size(); ++i) append_oid_or_text(&arr, std::to_string(i).c_str(), p.images[i]);
      bson_append_array_end(out, &arr);
      BSON_APPEND_DATE_TIME(out, "createdAt", p.created.value_or(now));
      BSON_APPEND_DATE_TIME(out, "updatedAt", p.updated.value_or(now));
      if (!p.notes.empty()) {
        BSON_APPEND_ARRAY_BEGIN(out, "importNotes", &arr);
        for (size_t i = 0; i < p.notes.size(); ++i) BSON_APPEND_UTF8(&arr, std::to_string(i).c_str(), p.notes[i].c_str());
        bson_append_array_end(out, &arr);
      }
      d.append_legacy(out);
      writer.tx().insert("faceprofiles", Document(out));
      writer.done_one();
    }
    writer.commit();
  }
  std::map<std::string, std::string> profile_names;
  for (const auto& p : profiles) profile_names[p.id] = p.name;

  // 4. Attendances.
  for (const auto& [c, m] : first("attendances")) {
    say("importing " + c->name);
    auto& r = report_for(c, m);
    int64_t photos_missing = 0;
    StagedBsonReader reader(c->staged);
    const uint8_t* doc;
    size_t size;
    while (reader.next(&doc, &size)) {
      MappedDocument d(doc, size, *m);
      std::string why;
      auto person_it = d.field("person");
      auto person = person_it ? import_object_id(*person_it) : std::nullopt;
      if (person_it && !person) person = import_text(*person_it);
      auto ts = mapped_date(d, "timestamp");
      auto session = mapped_text(d, *m, "session", why);
      if (!person) {
        refuse(r, d.id_key(), person_it ? "person reference is not an id" : "no person reference");
        continue;
      }
      if (!ts) {
        refuse(r, d.id_key(), d.field("timestamp") ? "timestamp is not a date" : "no timestamp");
        continue;
      }
      if (!session) {
        refuse(r, d.id_key(), why);
        continue;
      }
      auto name = profile_names.find(*person);
      if (name == profile_names.end()) {
        refuse(r, d.id_key(), "refers to profile " + *person + ", which is not among the imported profiles");
        continue;
      }
      if (d.id_key().empty() || !seen_ids[m->as].insert(d.id_key()).second) {
        refuse(r, d.id_key(), d.id_key().empty() ? "no _id of a usable type" : "a second document with this _id");
        continue;
      }
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
          if (auto s = file_ids.find(*id); s != file_ids.end()) photo = s->second;
          else ++photos_missing;
        }
      if (photo) append_oid_or_text(out, "photoFileId", *photo);
      else BSON_APPEND_NULL(out, "photoFileId");
      BSON_APPEND_BOOL(out, "archived", false);
      d.append_legacy(out);
      count_legacy(r, d);
      if (writer.active()) {
        writer.tx().insert("attendances", Document(out));
        writer.done_one();
      } else {
        bson_destroy(out);
      }
      r.imported++;
    }
    if (photos_missing > 0)
      r.notes.push_back(std::to_string(photos_missing) + " records name a photo that is not among the imported files (photoFileId null)");
    writer.commit();
  }

  // 5. Crowd counts.
  for (const auto& [c, m] : first("crowdcounts")) {
    say("importing " + c->name);
    auto& r = report_for(c, m);
    StagedBsonReader reader(c->staged);
    const uint8_t* doc;
    size_t size;
    while (reader.next(&doc, &size)) {
      MappedDocument d(doc, size, *m);
      std::string why;
      auto location = mapped_text(d, *m, "location", why);
      auto count_it = d.field("count");
      auto count = count_it ? import_number(*count_it) : std::nullopt;
      auto ts = mapped_date(d, "timestamp");
      if (!location || location->empty()) {
        refuse(r, d.id_key(), location ? "empty location" : why);
        continue;
      }
      if (!count || *count < 0) {
        refuse(r, d.id_key(), count_it ? "count is not a number >= 0" : "no count");
        continue;
      }
      if (!ts) {
        refuse(r, d.id_key(), d.field("timestamp") ? "timestamp is not a date" : "no timestamp");
        continue;
      }
      if (d.id_key().empty() || !seen_ids[m->as].insert(d.id_key()).second) {
        refuse(r, d.id_key(), d.id_key().empty() ? "no _id of a usable type" : "a second document with this _id");
        continue;
      }
      bson_t* out = bson_new();
      d.append_id(out);
      BSON_APPEND_UTF8(out, "location", location->c_str());
      BSON_APPEND_DATE_TIME(out, "timestamp", *ts);
      BSON_APPEND_DOUBLE(out, "count", *count);
      BSON_APPEND_UTF8(out, "modelVersion", "imported");
      std::optional<std::string> image;
      if (auto im = d.field("image"))
        if (auto id = import_object_id(*im))
          if (auto s = file_ids.find(*id); s != file_ids.end()) image = s->second;
      if (image) append_oid_or_text(out, "imageFileId", *image);
      else BSON_APPEND_NULL(out, "imageFileId");
      BSON_APPEND_NULL(out, "densityMapFileId");
      BSON_APPEND_NULL(out, "heatmapFileId");
      BSON_APPEND_BOOL(out, "archived", false);
      d.append_legacy(out);
      count_legacy(r, d);
      if (writer.active()) {
        writer.tx().insert("crowdcounts", Document(out));
        writer.done_one();
      } else {
        bson_destroy(out);
      }
      r.imported++;
    }
    writer.commit();
  }

  // 6. Audit logs: each becomes a link of facecrowd's audit chain, its own fields under details.legacy.
  for (const auto& [c, m] : first("auditlogs")) {
    say("importing " + c->name);
    auto& r = report_for(c, m);
    StagedBsonReader reader(c->staged);
    const uint8_t* doc;
    size_t size;
    while (reader.next(&doc, &size)) {
      MappedDocument d(doc, size, *m);
      std::string why;
      auto action = mapped_text(d, *m, "action", why);
      auto ts = mapped_date(d, "timestamp");
      auto actor = mapped_text(d, *m, "actor", why);
      auto outcome = mapped_text(d, *m, "outcome", why);
      if (!action || action->empty()) {
        refuse(r, d.id_key(), action ? "empty action" : why);
        continue;
      }
      if (!ts) {
        refuse(r, d.id_key(), d.field("timestamp") ? "timestamp is not a date" : "no timestamp");
        continue;
      }
      if (!actor || !outcome) {
        refuse(r, d.id_key(), why);
        continue;
      }
      if (d.id_is_object_id() && !seen_ids[m->as].insert(d.id_key()).second) {
        refuse(r, d.id_key(), "a second document with this _id");
        continue;
      }
      if (auto u = usernames.find(*actor); u != usernames.end()) *actor = "user:" + u->second;
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
      if (writer.active()) {
        insert_sealed_audit_entry(writer.tx(), Document(out));
        writer.done_one();
      } else {
        bson_destroy(out);
      }
      r.imported++;
    }
    writer.commit();
  }

  for (auto& u : unknown) mapped_reports.push_back(std::move(u));
  report.collections = std::move(mapped_reports);
  for (const auto& c : report.collections) report.documents_imported += c.imported;

  // Check what was written, record the import, swap.
  if (writer.active()) {
    say("checking the imported data");
    {
      auto r = gen.db->read();
      std::map<std::string, int64_t> expected;
      for (const auto& c : report.collections)
        if (!c.as.empty() && c.as != "fs.chunks" && c.as != "fs.files") expected[c.as] += c.imported;
      for (const auto& [coll, n] : expected)
        if (r.count(coll) != n)
          throw Error(ExitCode::kInternal, "import check: " + coll + " holds " + std::to_string(r.count(coll)) +
                                               " documents, " + std::to_string(n) + " were imported; nothing was changed");
      int64_t files = 0;
      r.find("fs.files", Query{}, [&](const Document& f) {
        get_file(r, *f.id_key());  // chunk numbering, sizes, length and sha256, or Error(kBadInput)
        ++files;
        return true;
      });
      if (files != report.files_imported - report.files_deduplicated)
        throw Error(ExitCode::kInternal, "import check: fs.files holds " + std::to_string(files) + " files, expected " +
                                             std::to_string(report.files_imported - report.files_deduplicated));
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto tx = gen.db->write();
    nlohmann::json counts = nlohmann::json::object();
    for (const auto& c : report.collections)
      counts[c.source] = {{"as", c.as.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.as)},
                          {"documents", c.documents}, {"imported", c.imported}, {"refused", c.refused}};
    nlohmann::json details = {{"source", report.source},
                              {"shape", report.shape},
                              {"sourceDb", report.source_db},
                              {"mapping", report.mapping},
                              {"mappingSha256", mapping.text_sha256},
                              {"collections", counts},
                              {"files", report.files_imported},
                              {"embeddings", report.embedding_decision},
                              {"sampleChecked", report.sample_checked},
                              {"sampleMaxDistance", report.sample_max_distance},
                              {"flaggedProfiles", int64_t(report.flagged.size())}};
    tx.note(Document::from_json({{"import", report.source}, {"db", db_name}}, "import note"));
    report.audit_id = append_audit(tx, AuditEntry{.action = "import",
                                                  .target = report.source,
                                                  .actor = options.actor.empty() ? std::nullopt : std::optional<std::string>(options.actor),
                                                  .details = details});
    tx.commit();
    {
      auto r = gen.db->read();
      for (const auto& spec : collection_specs()) report.counts_after[spec.name] = r.count(spec.name);
    }
    gen.db.reset();
    fsync_path(gen.file);
    fsync_path(gen.file.parent_path());
    data->install_generation(db_name, gen.file);
    gen.installed = true;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace facecrowd
