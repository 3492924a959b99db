#include "app/records/audit_chain.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "core/sha256.h"
#include "core/utc_time.h"

namespace facecrowd {
namespace {

std::optional<std::string> utf8_field(const bson_t* doc, const char* name) {
  bson_iter_t it;
  if (bson_iter_init_find(&it, doc, name) && BSON_ITER_HOLDS_UTF8(&it)) return std::string(bson_iter_utf8(&it, nullptr));
  return std::nullopt;
}

std::string describe(const Document& entry) {
  std::string action = utf8_field(entry.get(), "action").value_or("?");
  std::string when = "?";
  bson_iter_t it;
  if (bson_iter_init_find(&it, entry.get(), "timestamp") && BSON_ITER_HOLDS_DATE_TIME(&it))
    when = format_iso8601(bson_iter_date_time(&it));
  return action + " at " + when + " (_id " + entry.id_key().value_or("?") + ")";
}

}  // namespace

Document with_erased_details(const Document& entry, const Document& details, const std::string& person_id) {
  std::vector<std::string> erased_for;
  bson_iter_t it, child;
  if (bson_iter_init_find(&it, entry.get(), "erasedFor") && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &child))
    while (bson_iter_next(&child))
      if (BSON_ITER_HOLDS_UTF8(&child)) erased_for.emplace_back(bson_iter_utf8(&child, nullptr));
  if (std::find(erased_for.begin(), erased_for.end(), person_id) == erased_for.end()) erased_for.push_back(person_id);
  bson_t* out = bson_sized_new(entry.get()->len + 64);
  if (bson_iter_init(&it, entry.get())) {
    while (bson_iter_next(&it)) {
      std::string_view key = bson_iter_key(&it);
      if (key == "detailsSalt" || key == "erasedFor") continue;
      if (key == "details") BSON_APPEND_DOCUMENT(out, "details", details.get());
      else bson_append_iter(out, key.data(), int(key.size()), &it);
    }
  }
  bson_t array;
  BSON_APPEND_ARRAY_BEGIN(out, "erasedFor", &array);
  for (size_t i = 0; i < erased_for.size(); ++i)
    BSON_APPEND_UTF8(&array, std::to_string(i).c_str(), erased_for[i].c_str());
  bson_append_array_end(out, &array);
  return Document(out);
}

nlohmann::json AuditVerifyReport::to_json() const {
  auto problems_json = nlohmann::json::array();
  for (const auto& p : problems)
    problems_json.push_back({{"seq", p.seq}, {"id", p.id}, {"kind", p.kind}, {"message", p.message}});
  std::string status = !problems.empty() ? "BROKEN" : not_chained_yet ? "NOT_CHAINED" : "OK";
  return {{"status", status},
          {"entries", entries},
          {"chained", chained},
          {"scrubbed", scrubbed},
          {"checkpoints", checkpoints},
          {"deletedByRetention", accounted_gap},
          {"unchained", unchained},
          {"head", {{"seq", head.seq}, {"hash", head.hash}}},
          {"problems", problems_json},
          {"against", against}};
}

AuditVerifyReport verify_audit_chain(Database::ReadTransaction& tx, const std::set<std::string>& erased_ids) {
  AuditVerifyReport r;
  struct Link {
    int64_t seq;
    std::string hash, prev;
    Document doc;
  };
  std::vector<Link> links;
  std::vector<Document> unchained;
  tx.find("auditlogs", Query{}, [&](const Document& d) {
    ++r.entries;
    Link link{0, "", "", d};
    if (audit_chain_fields(d.get(), link.seq, link.hash)) {
      link.prev = utf8_field(d.get(), "prevHash").value_or("");
      links.push_back(std::move(link));
    } else {
      unchained.push_back(d);
    }
    return true;
  });
  r.chained = int64_t(links.size());
  r.unchained = int64_t(unchained.size());
  if (links.empty()) {
    r.not_chained_yet = !unchained.empty();
    return r;
  }
  for (const auto& d : unchained)
    r.problems.push_back({0, d.id_key().value_or("?"), "inserted",
                          "entry " + describe(d) + " has no chain fields: it was inserted around facecrowd"});
  std::stable_sort(links.begin(), links.end(), [](const Link& a, const Link& b) { return a.seq < b.seq; });

  // Erasures the log itself records, and the runs of entries retention deleted.
  std::set<std::string> erased(erased_ids);
  for (const auto& l : links) {
    auto action = utf8_field(l.doc.get(), "action").value_or("");
    if (action == "person.delete") erased.insert(utf8_field(l.doc.get(), "target").value_or(""));
    if (action != "audit.checkpoint") continue;
    ++r.checkpoints;
    bson_iter_t it;
    if (!bson_iter_init_find(&it, l.doc.get(), "details") || !BSON_ITER_HOLDS_DOCUMENT(&it)) continue;
    auto details = Document::from_bytes(reinterpret_cast<const uint8_t*>(audit_details_bytes(l.doc.get()).data()),
                                        audit_details_bytes(l.doc.get()).size(), "checkpoint details").to_json();
    if (details.contains("ranges") && details["ranges"].is_array())
      for (const auto& range : details["ranges"])
        if (range.is_object() && range.value("fromSeq", int64_t(0)) > 0)
          r.deleted_runs.push_back({range.value("fromSeq", int64_t(0)), range.value("toSeq", int64_t(0)),
                                    range.value("lastHash", std::string())});
  }
  for (const auto& l : links) r.hashes.emplace(l.seq, l.hash);
  std::unordered_map<std::string, size_t> position_of_hash;
  for (size_t i = 0; i < links.size(); ++i) position_of_hash.emplace(links[i].hash, i);

  auto gap_accounted = [&](int64_t from, int64_t to, const std::string& next_prev, bool leading) {
    bool ends_here = false;
    for (const auto& run : r.deleted_runs)
      if (run.to == to && run.last_hash == next_prev) ends_here = true;
    if (!ends_here) return false;
    if (leading) return true;  // older checkpoints may themselves have been deleted since
    for (int64_t s = from; s <= to;) {
      int64_t next = s;
      for (const auto& run : r.deleted_runs)
        if (run.from <= s && run.to >= s) next = std::max(next, run.to + 1);
      if (next == s) return false;
      s = next;
    }
    return true;
  };

  std::string prev_hash = kAuditChainGenesis;
  int64_t prev_seq = 0;
  // A reordered pair: the seq of the entry that now comes second, and the hash the chain goes on from
  // after it (the one written last of the two).
  std::map<int64_t, std::string> reordered_partners;
  for (size_t i = 0; i < links.size(); ++i) {
    const Link& l = links[i];
    const std::string id = l.doc.id_key().value_or("?");
    auto problem = [&](const std::string& kind, const std::string& message) {
      r.problems.push_back({l.seq, id, kind, message});
    };
    // The entry itself.
    auto salt = utf8_field(l.doc.get(), "detailsSalt");
    auto commit = utf8_field(l.doc.get(), "detailsCommit").value_or("");
    if (audit_entry_hash(l.doc.get()) != l.hash) {
      problem("changed", "entry seq " + std::to_string(l.seq) + ", " + describe(l.doc) +
                             ": its fields no longer match its hash (changed after it was written)");
    } else if (salt) {
      if (audit_details_commitment(*salt, audit_details_bytes(l.doc.get())) != commit)
        problem("changed", "entry seq " + std::to_string(l.seq) + ", " + describe(l.doc) +
                               ": its details no longer match their commitment (changed after it was written)");
    } else {
      bool accepted = false;
      bson_iter_t it, child;
      if (bson_iter_init_find(&it, l.doc.get(), "erasedFor") && BSON_ITER_HOLDS_ARRAY(&it) &&
          bson_iter_recurse(&it, &child)) {
        accepted = true;
        int n = 0;
        while (bson_iter_next(&child)) {
          ++n;
          if (!BSON_ITER_HOLDS_UTF8(&child) || !erased.count(bson_iter_utf8(&child, nullptr))) accepted = false;
        }
        accepted = accepted && n > 0;
      }
      if (accepted) ++r.scrubbed;
      else
        problem("changed", "entry seq " + std::to_string(l.seq) + ", " + describe(l.doc) +
                               ": its details were replaced and its salt removed, but no erasure in the ledger or "
                               "the log accounts for it");
    }
    // Its link.
    if (i > 0 && l.seq == links[i - 1].seq) {
      problem("inserted", "entry seq " + std::to_string(l.seq) + ", " + describe(l.doc) +
                              ": a second entry with the same seq (inserted around facecrowd)");
      continue;  // the chain goes on from the first one
    }
    if (l.seq != prev_seq + 1) {
      int64_t from = prev_seq + 1, to = l.seq - 1;
      if (gap_accounted(from, to, l.prev, prev_seq == 0)) {
        r.accounted_gap += to - from + 1;
      } else {
        problem("removed", (from == to ? "entry seq " + std::to_string(from) + " is missing"
                                       : "entries seq " + std::to_string(from) + " to " + std::to_string(to) +
                                             " are missing") +
                               " before " + describe(l.doc) + " and no audit.checkpoint accounts for them (deleted "
                               "around facecrowd)");
      }
    } else if (auto partner = reordered_partners.find(l.seq); partner != reordered_partners.end()) {
      prev_hash = partner->second;  // the pair was reported at its first entry
      prev_seq = l.seq;
      r.head = {l.seq, l.hash, id, 0};
      continue;
    } else if (l.prev != prev_hash) {
      auto later = position_of_hash.find(l.prev);
      if (later != position_of_hash.end() && later->second > i) {
        reordered_partners.emplace(links[later->second].seq, l.hash);
        problem("reordered", "entry seq " + std::to_string(l.seq) + ", " + describe(l.doc) +
                                 ", is out of order: it was written after entry seq " +
                                 std::to_string(links[later->second].seq) + ", which now comes after it");
      } else if (i + 1 < links.size() && links[i + 1].prev == prev_hash) {
        problem("inserted", "entry seq " + std::to_string(l.seq) + ", " + describe(l.doc) +
                                ", is not part of the chain: the entry after it links to the one before it "
                                "(inserted around facecrowd)");
        continue;  // keep prev_hash: the next entry links to it
      } else {
        problem("removed", "entry seq " + std::to_string(l.seq) + ", " + describe(l.doc) +
                               ", does not link to entry seq " + std::to_string(prev_seq) +
                               ": an entry between them was removed or the log was rewritten");
      }
    }
    prev_hash = l.hash;
    prev_seq = l.seq;
    r.head.seq = l.seq;
    r.head.hash = l.hash;
    r.head.id = id;
  }
  return r;
}

void check_against_recorded_head(AuditVerifyReport& report, int64_t recorded_seq, const std::string& recorded_hash,
                                 const std::string& source) {
  auto fail = [&](const std::string& message) {
    report.problems.push_back({recorded_seq, "", "mismatch", message});
    report.against.push_back(source + ": MISMATCH");
  };
  if (recorded_seq <= 0) {
    report.against.push_back(source + ": no chain head recorded (backup made before the chain, or an empty log)");
    return;
  }
  auto found = report.hashes.find(recorded_seq);
  if (found != report.hashes.end()) {
    if (found->second == recorded_hash) {
      report.against.push_back(source + ": entry seq " + std::to_string(recorded_seq) + " matches");
      return;
    }
    return fail("entry seq " + std::to_string(recorded_seq) + " differs from the one " + source +
                " recorded as the chain head: the log was rewritten after that backup");
  }
  if (recorded_seq > report.head.seq)
    return fail("the live log ends at seq " + std::to_string(report.head.seq) + " but " + source +
                " recorded seq " + std::to_string(recorded_seq) + ": entries were removed after that backup");
  for (const auto& run : report.deleted_runs) {
    if (run.from > recorded_seq || run.to < recorded_seq) continue;
    if (run.to == recorded_seq && run.last_hash != recorded_hash)
      return fail("retention's checkpoint for seq " + std::to_string(recorded_seq) + " names another hash than " +
                  source + " recorded");
    report.against.push_back(source + ": entry seq " + std::to_string(recorded_seq) +
                             " was deleted by retention (accounted for by a checkpoint)");
    return;
  }
  fail("entry seq " + std::to_string(recorded_seq) + ", the chain head " + source +
       " recorded, is missing from the live log and no checkpoint accounts for it");
}

}  // namespace facecrowd
