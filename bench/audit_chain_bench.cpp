// The cost of the audit hash chain (app/records/audit_chain.h), as ratios against the same work without it:
//   BM_AuditWrite/1   append_audit (seal: salt, commitment, hash, head read/cache) in its own transaction
//   BM_AuditWrite/0   the baseline: the same document inserted plainly (what append_audit did before)
//   BM_RetentionAudit/1  run_retention deleting 20,000 old audit entries (seq/hash read per entry,
//                        checkpoint entries per batch)
//   BM_RetentionAudit/0  the baseline: the same deletions in batches of 5,000 with no audit entries
// Both run on a database already holding 20,000 chained entries. bench/audit_chain.sh prints the ratios.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "app/records/audit.h"
#include "app/records/retention.h"
#include "store/data_dir.h"
#include "store/database.h"

namespace {

using namespace facecrowd;
namespace fs = std::filesystem;

constexpr UnixMillis kNow = 1767225600000;  // 2026-01-01
constexpr int kEntries = 20000;

struct Scratch {
  fs::path dir;
  Scratch() {
    dir = fs::temp_directory_path() / ("facecrowd-audit-bench-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

AuditEntry entry(int k, UnixMillis t) {
  return AuditEntry{.action = "attendance.recognize", .target = "class-7B",
                    .details = {{"photoFileId", "65a1b2c3d4e5f60718293a4b"}, {"faces", 12}, {"unknown", k % 3},
                                {"threshold", 0.5}, {"modelVersion", "face_recognition@1.0.0"}},
                    .timestamp = t};
}

void fill(Database& db, int n, UnixMillis t) {
  for (int start = 0; start < n; start += 1000) {
    auto tx = db.write();
    for (int k = start; k < std::min(n, start + 1000); ++k) append_audit(tx, entry(k, t + k));
    tx.commit();
  }
}

void BM_AuditWrite(benchmark::State& state) {
  const bool chained = state.range(0) == 1;
  Scratch scratch;
  auto db = Database::open(DataDir::open(scratch.dir / "data"), "face-recognition");
  fill(*db, kEntries, kNow - 1000000);
  int k = 0;
  for (auto _ : state) {
    auto tx = db->write();
    if (chained) {
      append_audit(tx, entry(k, kNow));
    } else {
      auto e = entry(k, kNow);
      tx.insert("auditlogs", Document::from_json({{"timestamp", {{"$date", kNow}}},
                                                  {"actor", "bench"},
                                                  {"action", e.action},
                                                  {"target", e.target},
                                                  {"outcome", "ok"},
                                                  {"clientAddress", "local"},
                                                  {"details", e.details}}));
    }
    tx.commit();
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AuditWrite)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_RetentionAudit(benchmark::State& state) {
  const bool chained = state.range(0) == 1;
  for (auto _ : state) {
    state.PauseTiming();
    Scratch scratch;
    auto db = Database::open(DataDir::open(scratch.dir / "data"), "face-recognition");
    const UnixMillis old = kNow - 3LL * 365 * 24 * 3600 * 1000;
    fill(*db, kEntries, old);
    std::vector<std::string> ids;
    if (!chained) {
      auto tx = db->read();
      tx.find("auditlogs", Query{}, [&](const Document& d) {
        ids.push_back(*d.id_key());
        return true;
      });
    }
    state.ResumeTiming();
    if (chained) {
      RetentionOptions options;
      options.now = kNow;
      auto r = run_retention(*db, options);
      if (r.auditlogs_deleted != kEntries) state.SkipWithError("retention deleted a different number");
    } else {
      // The old path: plan by the timestamp index, then delete in batches of 5,000, no audit entries.
      RetentionOptions options;
      options.now = kNow;
      options.dry_run = true;
      run_retention(*db, options);  // the plan, read as the real run reads it
      for (size_t start = 0; start < ids.size(); start += 5000) {
        auto tx = db->write();
        for (size_t i = start; i < std::min(ids.size(), start + 5000); ++i) tx.remove("auditlogs", ids[i]);
        tx.commit();
      }
    }
    state.PauseTiming();
    db.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
}
BENCHMARK(BM_RetentionAudit)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
