#include "app/records/retention.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>
#include <vector>

#include "app/records/audit.h"
#include "core/object_id.h"
#include "store/audit_seal.h"
#include "core/error.h"
#include "store/file_store.h"

namespace facecrowd {
namespace {

using IdSet = std::unordered_set<std::string>;

std::optional<UnixMillis> date_field(const bson_t* doc, const char* name) {
  bson_iter_t it;
  if (bson_iter_init_find(&it, doc, name) && BSON_ITER_HOLDS_DATE_TIME(&it)) return bson_iter_date_time(&it);
  return std::nullopt;
}

bool is_archived(const bson_t* doc) {
  bson_iter_t it;
  return bson_iter_init_find(&it, doc, "archived") && BSON_ITER_HOLDS_BOOL(&it) && bson_iter_bool(&it);
}

// Ids of documents whose date `timestamp` lies in [from, before). The indexed column narrows the scan; the
// document's own field decides (the column also holds numbers that are not dates).
std::vector<std::string> ids_in_range(Database::ReadTransaction& tx, const std::string& collection,
                                      std::optional<UnixMillis> from, UnixMillis before, bool skip_archived) {
  Query q;
  if (from) q.where.push_back({"timestamp", ">=", int64_t(*from)});
  q.where.push_back({"timestamp", "<", int64_t(before)});
  std::vector<std::string> ids;
  tx.find(collection, q, [&](const Document& doc) {
    auto ts = date_field(doc.get(), "timestamp");
    if (ts && *ts < before && (!from || *ts >= *from) && !(skip_archived && is_archived(doc.get())))
      if (auto id = doc.id_key()) ids.push_back(*id);
    return true;
  });
  return ids;
}

// The same document with `archived: true` (other fields in their order).
Document with_archived_flag(const Document& doc) {
  bson_t* out = bson_sized_new(doc.get()->len + 16);
  bson_iter_t it;
  bson_iter_init(&it, doc.get());
  while (bson_iter_next(&it)) {
    if (std::string_view(bson_iter_key(&it)) == "archived") continue;
    bson_append_iter(out, bson_iter_key(&it), -1, &it);
  }
  BSON_APPEND_BOOL(out, "archived", true);
  return Document(out);
}

template <typename Tx>
IdSet referenced_files(Tx& tx, const IdSet& deleted_documents) {
  IdSet refs;
  for (const auto& collection : file_referencing_collections()) {
    tx.find(collection, Query{}, [&](const Document& doc) {
      if (!deleted_documents.empty()) {
        auto id = doc.id_key();
        if (id && deleted_documents.count(collection + "/" + *id)) return true;
      }
      for_each_file_reference(collection, doc.get(), [&](const std::string& file_id) { refs.insert(file_id); });
      return true;
    });
  }
  return refs;
}

struct Unreferenced {
  std::vector<std::string> ids;
  int64_t bytes = 0;
};

template <typename Tx>
Unreferenced unreferenced_files(Tx& tx, const IdSet& refs) {
  Unreferenced out;
  tx.find("fs.files", Query{}, [&](const Document& doc) {
    auto id = doc.id_key();
    if (!id || refs.count(*id)) return true;
    out.ids.push_back(*id);
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc.get(), "length") && BSON_ITER_HOLDS_NUMBER(&it)) out.bytes += bson_iter_as_int64(&it);
    return true;
  });
  return out;
}

struct Plan {
  std::vector<std::string> delete_attendances, delete_crowdcounts, delete_auditlogs;
  std::vector<std::string> archive_attendances, archive_crowdcounts;
};

Plan make_plan(Database::ReadTransaction& tx, const RetentionReport& r) {
  Plan plan;
  plan.delete_attendances = ids_in_range(tx, "attendances", std::nullopt, r.attendance_cutoff, false);
  plan.delete_crowdcounts = ids_in_range(tx, "crowdcounts", std::nullopt, r.crowd_cutoff, false);
  plan.delete_auditlogs = ids_in_range(tx, "auditlogs", std::nullopt, r.audit_cutoff, false);
  // Oldest link first, so each batch deletes runs of consecutive seqs (fewer checkpoint ranges).
  std::vector<std::pair<int64_t, std::string>> by_seq;
  for (const auto& id : plan.delete_auditlogs) {
    int64_t seq = 0;
    std::string hash;
    auto doc = tx.get("auditlogs", id);
    if (doc) audit_chain_fields(doc->get(), seq, hash);
    by_seq.emplace_back(seq, id);
  }
  std::stable_sort(by_seq.begin(), by_seq.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < by_seq.size(); ++i) plan.delete_auditlogs[i] = by_seq[i].second;
  if (r.archive_cutoff > r.attendance_cutoff)
    plan.archive_attendances = ids_in_range(tx, "attendances", r.attendance_cutoff, r.archive_cutoff, true);
  if (r.archive_cutoff > r.crowd_cutoff)
    plan.archive_crowdcounts = ids_in_range(tx, "crowdcounts", r.crowd_cutoff, r.archive_cutoff, true);
  return plan;
}

}  // namespace

void validate_retention_policy(const RetentionPolicy& p) {
  auto check = [](int value, const char* flag) {
    if (value < 1 || value > 1200)
      throw Error(ExitCode::kUsage, std::string(flag) + " must be a whole number of months from 1 to 1200, not " +
                                        std::to_string(value));
  };
  check(p.attendance_months, "--attendance-months");
  check(p.crowd_months, "--crowd-months");
  check(p.audit_months, "--audit-months");
  check(p.archive_after_months, "--archive-after-months");
}

UnixMillis months_before(UnixMillis t, int months) {
  using namespace std::chrono;
  sys_time<milliseconds> time{milliseconds{t}};
  auto day = floor<days>(time);
  auto time_of_day = time - day;
  year_month_day ymd{day};
  ymd -= std::chrono::months{months};
  if (!ymd.ok()) ymd = ymd.year() / ymd.month() / last;
  return duration_cast<milliseconds>((sys_days{ymd} + time_of_day).time_since_epoch()).count();
}

nlohmann::json RetentionReport::to_json() const {
  return {
      {"dryRun", dry_run},
      {"now", format_iso8601(now)},
      {"policy",
       {{"attendanceMonths", policy.attendance_months},
        {"crowdMonths", policy.crowd_months},
        {"auditMonths", policy.audit_months},
        {"archiveAfterMonths", policy.archive_after_months}}},
      {"cutoffs",
       {{"attendances", format_iso8601(attendance_cutoff)},
        {"crowdcounts", format_iso8601(crowd_cutoff)},
        {"auditlogs", format_iso8601(audit_cutoff)},
        {"archive", format_iso8601(archive_cutoff)}}},
      {"deleted",
       {{"attendances", attendances_deleted},
        {"crowdcounts", crowdcounts_deleted},
        {"auditlogs", auditlogs_deleted},
        {"files", files_deleted}}},
      {"archived", {{"attendances", attendances_archived}, {"crowdcounts", crowdcounts_archived}}},
      {"fileBytesFreed", file_bytes_freed},
      {"auditId", audit_id},
  };
}

RetentionReport run_retention(Database& db, const RetentionOptions& options) {
  validate_retention_policy(options.policy);
  RetentionReport r;
  r.dry_run = options.dry_run;
  r.now = options.now ? options.now : now_millis();
  r.policy = options.policy;
  r.attendance_cutoff = months_before(r.now, r.policy.attendance_months);
  r.crowd_cutoff = months_before(r.now, r.policy.crowd_months);
  r.audit_cutoff = months_before(r.now, r.policy.audit_months);
  r.archive_cutoff = months_before(r.now, r.policy.archive_after_months);
  auto progress = [&](const std::string& stage, int64_t done, int64_t total) {
    if (options.progress) options.progress(stage, done, total);
  };
  int batch_size = std::max(1, options.batch_size);

  Plan plan;
  {
    auto tx = db.read();
    plan = make_plan(tx, r);
    if (options.dry_run) {
      IdSet doomed;
      for (const auto& id : plan.delete_attendances) doomed.insert("attendances/" + id);
      for (const auto& id : plan.delete_crowdcounts) doomed.insert("crowdcounts/" + id);
      auto unreferenced = unreferenced_files(tx, referenced_files(tx, doomed));
      r.attendances_deleted = int64_t(plan.delete_attendances.size());
      r.crowdcounts_deleted = int64_t(plan.delete_crowdcounts.size());
      r.auditlogs_deleted = int64_t(plan.delete_auditlogs.size());
      r.attendances_archived = int64_t(plan.archive_attendances.size());
      r.crowdcounts_archived = int64_t(plan.archive_crowdcounts.size());
      r.files_deleted = int64_t(unreferenced.ids.size());
      r.file_bytes_freed = unreferenced.bytes;
      return r;
    }
  }

  // Deletions, a batch per transaction. A document someone else deleted meanwhile is simply not counted.
  // Every batch carries its own audit entry in its own transaction (a run killed after some batches
  // leaves an entry for each committed one); a batch of audit entries writes an audit.checkpoint that
  // accounts for the gap it leaves in the audit chain (app/records/audit_chain.h).
  const std::string run_id = new_object_id();
  auto delete_all = [&](const std::string& collection, const std::vector<std::string>& ids) {
    int64_t deleted = 0;
    const bool audit = collection == "auditlogs";
    for (size_t start = 0, batch = 1; start < ids.size(); start += size_t(batch_size), ++batch) {
      auto tx = db.write();
      int64_t in_batch = 0;
      nlohmann::json ranges = nlohmann::json::array();
      for (size_t i = start; i < std::min(ids.size(), start + size_t(batch_size)); ++i) {
        int64_t seq = 0;
        std::string hash;
        if (audit) {
          auto doc = tx.get(collection, ids[i]);
          if (!doc || !audit_chain_fields(doc->get(), seq, hash)) seq = 0;
        }
        if (!tx.remove(collection, ids[i])) continue;
        ++in_batch;
        if (seq == 0) continue;
        if (!ranges.empty() && ranges.back()["toSeq"].get<int64_t>() + 1 == seq) {
          ranges.back()["toSeq"] = seq;
          ranges.back()["lastHash"] = hash;
        } else {
          ranges.push_back({{"fromSeq", seq}, {"toSeq", seq}, {"lastHash", hash}});
        }
      }
      deleted += in_batch;
      nlohmann::json details = {{"run", run_id}, {"collection", collection}, {"batch", batch}, {"deleted", in_batch}};
      if (audit) {
        details["deletedEntries"] = in_batch;
        details["ranges"] = ranges;
        details["cutoff"] = format_iso8601(r.audit_cutoff);
      }
      append_audit(tx, AuditEntry{.action = audit ? "audit.checkpoint" : "retention.batch",
                                  .target = "database " + db.name(), .details = details});
      tx.commit();
      progress("deleting " + collection, int64_t(std::min(ids.size(), start + size_t(batch_size))), int64_t(ids.size()));
    }
    return deleted;
  };
  r.attendances_deleted = delete_all("attendances", plan.delete_attendances);
  r.crowdcounts_deleted = delete_all("crowdcounts", plan.delete_crowdcounts);
  r.auditlogs_deleted = delete_all("auditlogs", plan.delete_auditlogs);

  // Archive marks: re-read inside the write so a concurrent change is not overwritten with stale fields.
  auto archive_all = [&](const std::string& collection, const std::vector<std::string>& ids, UnixMillis from) {
    int64_t archived = 0;
    for (size_t start = 0, batch = 1; start < ids.size(); start += size_t(batch_size), ++batch) {
      auto tx = db.write();
      int64_t in_batch = 0;
      for (size_t i = start; i < std::min(ids.size(), start + size_t(batch_size)); ++i) {
        auto doc = tx.get(collection, ids[i]);
        if (!doc || is_archived(doc->get())) continue;
        auto ts = date_field(doc->get(), "timestamp");
        if (!ts || *ts < from || *ts >= r.archive_cutoff) continue;
        tx.replace(collection, with_archived_flag(*doc));
        ++in_batch;
      }
      archived += in_batch;
      append_audit(tx, AuditEntry{.action = "retention.batch", .target = "database " + db.name(),
                                  .details = {{"run", run_id}, {"collection", collection}, {"batch", batch},
                                              {"archived", in_batch}}});
      tx.commit();
      progress("archiving " + collection, int64_t(std::min(ids.size(), start + size_t(batch_size))), int64_t(ids.size()));
    }
    return archived;
  };
  r.attendances_archived = archive_all("attendances", plan.archive_attendances, r.attendance_cutoff);
  r.crowdcounts_archived = archive_all("crowdcounts", plan.archive_crowdcounts, r.crowd_cutoff);

  // The file sweep and the audit entry: one transaction, so no writer can add a reference in between.
  auto tx = db.write();
  progress("sweeping unreferenced files", 0, 1);
  auto unreferenced = unreferenced_files(tx, referenced_files(tx, IdSet{}));
  for (const auto& id : unreferenced.ids) r.files_deleted += remove_file(tx, id) ? 1 : 0;
  r.file_bytes_freed = unreferenced.bytes;
  nlohmann::json details = r.to_json();
  details.erase("auditId");
  details.erase("dryRun");
  details["run"] = run_id;  // the retention.batch and audit.checkpoint entries of this run carry the same id
  r.audit_id = append_audit(tx, AuditEntry{.action = "retention.run", .target = "database " + db.name(),
                                           .actor = options.actor, .client_address = options.client_address,
                                           .details = details});
  tx.commit();
  progress("sweeping unreferenced files", 1, 1);
  return r;
}

RetentionReport run_retention(Database& db, const RetentionPolicy& policy, UnixMillis now, bool dry_run) {
  return run_retention(db, RetentionOptions{.policy = policy, .now = now, .dry_run = dry_run});
}

}  // namespace facecrowd
