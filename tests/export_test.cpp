// `facecrowd export` and its query language (document_filter.h): mongoexport-style output, MongoDB-like
// matching, index use that never changes the answer, and bad input that leaves no file behind.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <sstream>

#include "app/records/document_filter.h"
#include "app/records/export.h"
#include "core/error.h"
#include "core/utc_time.h"
#include "store/data_dir.h"
#include "store/database.h"
#include "test_support.h"

namespace facecrowd {
namespace {

constexpr UnixMillis kDay = 86'400'000;
constexpr UnixMillis kT0 = 1767225600000;  // 2026-01-01T00:00:00Z

bool match(const std::string& query, const std::string& doc) {
  return DocumentFilter::parse(query, "test query").matches(Document::from_json_text(doc).get());
}

ExitCode parse_error(const std::string& query) {
  try {
    DocumentFilter::parse(query, "--query '" + query + "'");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--query '"), std::string::npos) << e.what();
    return e.code();
  }
  return ExitCode::kOk;
}

struct Fixture {
  TempDir tmp;
  DataDir dir = DataDir::open(tmp.path() / "data");
  std::unique_ptr<Database> db = Database::open(dir, "face-recognition");
  std::string data_flag = "--data '" + (tmp.path() / "data").string() + "' ";

  // 20 attendances over 20 days; every 4th archived; sessions s0..s4; a few with counts as doubles.
  Fixture() {
    auto tx = db->write();
    for (int i = 0; i < 20; ++i) {
      bson_t* d = bson_new();
      bson_oid_t person;
      bson_oid_init_from_string(&person, i % 2 ? "65a1b2c3d4e5f60718293a01" : "65a1b2c3d4e5f60718293a02");
      BSON_APPEND_OID(d, "personId", &person);
      BSON_APPEND_UTF8(d, "session", ("s" + std::to_string(i % 5)).c_str());
      BSON_APPEND_DATE_TIME(d, "timestamp", kT0 + i * kDay);
      BSON_APPEND_DOUBLE(d, "confidence", 0.5 + i / 40.0);
      BSON_APPEND_BOOL(d, "archived", i % 4 == 0);
      tx.insert("attendances", Document(d));
    }
    tx.commit();
  }

  std::vector<nlohmann::json> run_export(const std::string& query, ExportReport* report_out = nullptr) {
    fs::path out = tmp.path() / "out.jsonl";
    auto report = export_collection(dir, {.collection = "attendances", .query_json = query, .out = out, .overwrite = true});
    if (report_out) *report_out = report;
    std::vector<nlohmann::json> docs;
    std::istringstream lines(read_text(out));
    for (std::string line; std::getline(lines, line);) docs.push_back(nlohmann::json::parse(line));
    EXPECT_EQ(int64_t(docs.size()), report.documents);
    return docs;
  }
};

TEST(Export, PlainValuesMeanEqualityAndExtendedJsonValuesWork) {
  EXPECT_TRUE(match(R"({"archived": true})", R"({"archived": true})"));
  EXPECT_FALSE(match(R"({"archived": true})", R"({"archived": false})"));
  EXPECT_FALSE(match(R"({"archived": true})", R"({})"));
  EXPECT_TRUE(match(R"({"p": {"$oid": "65a1b2c3d4e5f60718293a01"}})", R"({"p": {"$oid": "65a1b2c3d4e5f60718293a01"}})"));
  EXPECT_FALSE(match(R"({"p": "65a1b2c3d4e5f60718293a01"})", R"({"p": {"$oid": "65a1b2c3d4e5f60718293a01"}})"));
  EXPECT_TRUE(match(R"({"t": {"$date": "2026-01-01T00:00:00Z"}})", R"({"t": {"$date": 1767225600000}})"));
  EXPECT_TRUE(match(R"({"n": 2})", R"({"n": 2.0})"));  // numbers compare across types
  EXPECT_TRUE(match(R"({"x": null})", R"({})"));        // null matches a missing field
  EXPECT_TRUE(match(R"({"box.w": 40})", R"({"box": {"w": 40}})"));
  EXPECT_TRUE(match(R"({"tags": "b"})", R"({"tags": ["a", "b"]})"));
  EXPECT_TRUE(match(R"({"e.m": "v2"})", R"({"e": [{"m": "v1"}, {"m": "v2"}]})"));
  EXPECT_TRUE(match(R"({"e.1.m": "v2"})", R"({"e": [{"m": "v1"}, {"m": "v2"}]})"));
  EXPECT_FALSE(match(R"({"e.0.m": "v2"})", R"({"e": [{"m": "v1"}, {"m": "v2"}]})"));
}

TEST(Export, OperatorsFollowMongoSemantics) {
  std::string doc = R"({"c": 0.75, "t": {"$date": "2026-02-01T00:00:00Z"}, "s": "gate", "z": null})";
  EXPECT_TRUE(match(R"({"c": {"$gt": 0.5, "$lte": 0.75}})", doc));
  EXPECT_FALSE(match(R"({"c": {"$gt": 0.75}})", doc));
  EXPECT_TRUE(match(R"({"c": {"$gte": 0}})", doc));
  EXPECT_FALSE(match(R"({"c": {"$gt": "0"}})", doc));  // a number never compares with a string
  EXPECT_TRUE(match(R"({"t": {"$lt": {"$date": "2026-03-01T00:00:00Z"}}})", doc));
  EXPECT_FALSE(match(R"({"t": {"$lt": 1800000000000}})", doc));  // a date is not a number
  EXPECT_TRUE(match(R"({"s": {"$in": ["hall", "gate"]}})", doc));
  EXPECT_FALSE(match(R"({"s": {"$in": []}})", doc));
  EXPECT_TRUE(match(R"({"s": {"$ne": "hall"}})", doc));
  EXPECT_FALSE(match(R"({"s": {"$ne": "gate"}})", doc));
  EXPECT_TRUE(match(R"({"missing": {"$ne": "gate"}})", doc));
  EXPECT_TRUE(match(R"({"s": {"$exists": true}, "missing": {"$exists": false}, "z": {"$exists": true}})", doc));
  EXPECT_FALSE(match(R"({"s": {"$exists": false}})", doc));
  EXPECT_TRUE(match(R"({"s": {"$eq": "gate"}})", doc));
  EXPECT_TRUE(match(R"({})", doc));
}

TEST(Export, MalformedQueriesAndUnknownOperatorsAreBadInput) {
  EXPECT_EQ(parse_error(R"({"archived": tru})"), ExitCode::kBadInput);
  EXPECT_EQ(parse_error(R"([1, 2])"), ExitCode::kBadInput);
  EXPECT_EQ(parse_error(R"({"c": {"$regex": "^a"}})"), ExitCode::kBadInput);
  EXPECT_EQ(parse_error(R"({"$where": "1"})"), ExitCode::kBadInput);
  EXPECT_EQ(parse_error(R"({"c": {"$gt": 1, "d": 2}})"), ExitCode::kBadInput);
  EXPECT_EQ(parse_error(R"({"c": {"$in": 3}})"), ExitCode::kBadInput);
  EXPECT_EQ(parse_error(R"({"c": {"$exists": 1}})"), ExitCode::kBadInput);
  EXPECT_EQ(parse_error(R"({"t": {"$date": "not a date"}})"), ExitCode::kBadInput);
  EXPECT_EQ(parse_error(R"({"a..b": 1})"), ExitCode::kBadInput);
  std::string deep = std::string(40, '[') + std::string(40, ']');
  EXPECT_EQ(parse_error(R"({"a": )" + deep + "}"), ExitCode::kBadInput);
}

TEST(Export, WritesOneRelaxedExtendedJsonDocumentPerLine) {
  Fixture f;
  auto docs = f.run_export("");
  ASSERT_EQ(docs.size(), 20u);
  EXPECT_TRUE(docs[0]["_id"].contains("$oid"));
  EXPECT_TRUE(docs[0]["personId"].contains("$oid"));
  EXPECT_EQ(docs[0]["timestamp"]["$date"].get<std::string>(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(docs[0]["confidence"], 0.5);
  // Compact, stored field order, shortest doubles — as mongoexport prints them.
  std::string text = read_text(f.tmp.path() / "out.jsonl");
  EXPECT_TRUE(text.starts_with("{\"_id\":{\"$oid\":\"")) << text.substr(0, 80);
  EXPECT_NE(text.find("\"confidence\":0.525,"), std::string::npos) << text.substr(0, 400);
}

TEST(Export, IndexedQueriesGiveTheSameAnswerAsAFullScan) {
  Fixture f;
  struct Case {
    std::string query;
    size_t expected;
    bool indexed;
  };
  std::vector<Case> cases = {
      {R"({"archived": true})", 5, true},
      {R"({"session": "s1"})", 4, true},
      {R"({"personId": {"$oid": "65a1b2c3d4e5f60718293a01"}})", 10, true},
      {R"({"timestamp": {"$gte": {"$date": "2026-01-05T00:00:00Z"}, "$lt": {"$date": "2026-01-10T00:00:00Z"}}})", 5, true},
      {R"({"timestamp": {"$gt": {"$date": "2026-01-05T00:00:00Z"}}, "session": {"$ne": "s0"}})", 12, true},
      {R"({"confidence": {"$gt": 0.91}})", 3, false},
      {R"({"session": {"$in": ["s1", "s2"]}})", 8, false},
  };
  for (const auto& c : cases) {
    ExportReport report;
    auto docs = f.run_export(c.query, &report);
    EXPECT_EQ(docs.size(), c.expected) << c.query;
    EXPECT_EQ(report.used_index, c.indexed) << c.query;
    // The same filter over every document, without any index.
    auto filter = DocumentFilter::parse(c.query, "q");
    size_t scanned = 0;
    auto r = f.db->read();
    r.scan("attendances", [&](std::string_view bson) {
      auto d = Document::from_bytes(reinterpret_cast<const uint8_t*>(bson.data()), bson.size());
      scanned += filter.matches(d.get()) ? 1 : 0;
    });
    EXPECT_EQ(scanned, c.expected) << c.query;
  }
}

TEST(Export, IntegerRangeOnAnIndexedColumnKeepsTruncatedDoubles) {
  // fs.chunks.n is an integer column; a document whose n is 2.5 is stored as 2 there but must still
  // match {"n": {"$gt": 2}}.
  Fixture f;
  {
    auto tx = f.db->write();
    tx.insert("fs.chunks", Document::from_json_text(R"({"files_id": "a", "n": 2.5})"));
    tx.insert("fs.chunks", Document::from_json_text(R"({"files_id": "b", "n": 2})"));
    tx.commit();
  }
  fs::path out = f.tmp.path() / "chunks.jsonl";
  auto report = export_collection(f.dir, {.collection = "fs.chunks", .query_json = R"({"n": {"$gt": 2}})", .out = out});
  EXPECT_TRUE(report.used_index);
  EXPECT_EQ(report.documents, 1);
}

TEST(Export, CliExportsTheRunbookQueryAndPrintsTheCount) {
  Fixture f;
  f.db.reset();
  fs::path out = f.tmp.path() / "archived.jsonl";
  auto res = run_facecrowd(f.data_flag + "export --collection attendances --query '{\"archived\": true}' --out '" +
                           out.string() + "'");
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_NE(res.out.find("exported 5 documents"), std::string::npos) << res.out;
  std::istringstream lines(read_text(out));
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) EXPECT_EQ(nlohmann::json::parse(line)["archived"], true);
  EXPECT_EQ(n, 5);
}

TEST(Export, CliBadQueryOrCollectionFailsWithItsCodeAndWritesNothing) {
  Fixture f;
  f.db.reset();
  fs::path out = f.tmp.path() / "x.jsonl";
  auto res = run_facecrowd(f.data_flag + "export -c attendances --query '{\"archived\": ' --out '" + out.string() + "'");
  EXPECT_EQ(res.exit_code, 3);
  EXPECT_NE(res.err.find("--query '{\"archived\": '"), std::string::npos) << res.err;
  res = run_facecrowd(f.data_flag + "export -c attendances --query '{\"a\": {\"$near\": 1}}' --out '" + out.string() + "'");
  EXPECT_EQ(res.exit_code, 3);
  EXPECT_NE(res.err.find("unknown operator '$near'"), std::string::npos) << res.err;
  res = run_facecrowd(f.data_flag + "export -c people --out '" + out.string() + "'");
  EXPECT_EQ(res.exit_code, 4);
  EXPECT_NE(res.err.find("people"), std::string::npos) << res.err;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& entry : fs::directory_iterator(f.tmp.path()))
    EXPECT_EQ(entry.path().filename().string().find(".x.jsonl.tmp"), std::string::npos) << entry.path();
}

// A read-only tmpfs mounted for the test and unmounted whatever happens.
class ReadOnlyMount {
 public:
  explicit ReadOnlyMount(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = ::geteuid() == 0 && ::mount("tmpfs", dir.c_str(), "tmpfs", MS_RDONLY, "size=1m") == 0;
  }
  ~ReadOnlyMount() {
    if (mounted_) ::umount(dir_.c_str());
  }
  bool mounted() const { return mounted_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

TEST(Export, OutIntoAReadOnlyDirectoryIsAnIoErrorAndLeavesNoFile) {
  Fixture f;
  f.db.reset();
  ReadOnlyMount ro(f.tmp.path() / "ro");
  if (!ro.mounted()) GTEST_SKIP() << "needs root to mount a read-only tmpfs";
  fs::path out = f.tmp.path() / "ro" / "attendances.jsonl";
  auto res = run_facecrowd(f.data_flag + "export --collection attendances --out '" + out.string() + "'");
  EXPECT_EQ(res.exit_code, 6) << res.err;
  EXPECT_NE(res.err.find(out.string()), std::string::npos) << res.err;
  EXPECT_TRUE(fs::is_empty(f.tmp.path() / "ro"));
}

}  // namespace
}  // namespace facecrowd
