#include "backup/offsite/offsite_verify.h"

#include <set>

#include "backup/archive_manifest.h"
#include "backup/offsite/offsite_fetch.h"
#include "backup/offsite/writer_fence.h"
#include "core/error.h"
#include "core/number_text.h"

namespace facecrowd {

VerifyReport verify_target(BackupTarget& target, const KeyRing* keys, const OffsiteVerifyOptions& options) {
  VerifyReport report;
  report.source = target.url();
  fs::path scratch_parent = options.scratch_parent.empty() ? fs::temp_directory_path() : options.scratch_parent;
  OffsiteStore store(target, scratch_parent);
  RemoteIndex index = store.require_index();
  report.checks.push_back({"index", true, counted(index.archives.size(), "archive") + ", " + counted(index.slices.size(), "oplog slice") +
                                              " (in " + counted(index.segments.size(), "segment") + "), " + counted(index.ledger.size(), "ledger chunk") + " (" +
                                              std::to_string(index.ledger_bytes) + " bytes)" +
                                              (index.encryption.empty() ? "" : ", encrypted: " + index.encryption)});
  try {
    auto auth = store.authenticate_index(index, keys, options.trust);
    report.index_authentication = auth.to_json();
    if (!auth.warning.empty()) report.warnings.push_back(auth.warning);
    report.checks.push_back({"index authentication", true,
                             auth.status == "authenticated" ? "its tag holds under key " + auth.key_id +
                                                                  (auth.checked_with.empty() ? "" : ", checked with " + auth.checked_with) +
                                                                  " (sequence " + std::to_string(auth.sequence) + ", written " + auth.updated_at + ")"
                                                            : auth.status + " (the warning says why)"});
  } catch (const Error& e) {
    if (e.code() != ExitCode::kBadInput) throw;
    report.index_authentication = {{"status", "refused"}, {"warning", e.what()}};
    report.checks.push_back({"index authentication", false, e.what()});
    return report;
  }
  // Who writes the target (writer_fence.h): informative, never a failure (this check knows no backup directory).
  report.checks.push_back({"writer", true, index.writer ? "written by " + describe_writer(*index.writer)
                                                        : "no writer recorded: the next push claims the target"});
  std::vector<const RemoteObject*> objects;
  for (const auto& a : index.archives) objects.insert(objects.end(), {&a.object, &a.manifest_object});
  for (const auto& s : index.slices) {
    objects.push_back(&s.object);
    if (s.record) objects.push_back(&*s.record);
  }
  for (const auto& c : index.ledger) objects.push_back(&c.object);
  for (const auto& g : index.segments) objects.push_back(&g.object);
  std::vector<std::string> problems;
  uint64_t bytes = 0;
  for (const auto* o : objects) {
    auto info = target.stat(o->key);
    if (!info) problems.push_back(o->key + ": missing");
    else if (info->size != o->size) problems.push_back(o->key + ": " + std::to_string(info->size) + " bytes, the index recorded " + std::to_string(o->size));
    else if (!info->sha256.empty() || o->etag.empty()) {
      if (info->sha256 != o->sha256)
        problems.push_back(o->key + ": sha256 " + (info->sha256.empty() ? "not recorded" : info->sha256) + ", the index recorded " + o->sha256);
    } else if (info->etag != o->etag) {
      // Encrypted in one pass: the object carries no sha256; its ETag says whether it is the one uploaded.
      problems.push_back(o->key + ": ETag " + (info->etag.empty() ? "none" : info->etag) + ", the index recorded " + o->etag +
                         " (replaced since it was uploaded)");
    }
    bytes += o->size;
  }
  std::string detail = counted(objects.size(), "object") + ", " + std::to_string(bytes) +
                       " bytes: size and sha256 (or, for objects encrypted in one pass, ETag) as recorded";
  if (!problems.empty()) {
    detail = std::to_string(problems.size()) + " of " + counted(objects.size(), "object") + (problems.size() == 1 ? " differs: " : " differ: ");
    for (size_t i = 0; i < problems.size() && i < 10; ++i) detail += (i ? "; " : "") + problems[i];
  }
  report.checks.push_back({"objects", problems.empty(), detail});
  uint64_t expect = 0;
  bool chain = true;
  for (const auto& c : index.ledger) {
    chain = chain && c.offset == expect;
    expect = c.offset + c.length;
  }
  chain = chain && expect == index.ledger_bytes;
  report.checks.push_back({"ledger chain", chain, chain ? counted(index.ledger.size(), "chunk") + (index.ledger.size() == 1 ? " covers" : " cover") + " bytes 0.." + std::to_string(index.ledger_bytes)
                                                        : "the chunks do not cover the ledger's " + std::to_string(index.ledger_bytes) + " bytes without a gap"});
  {
    // Ledger objects the index does not name: a push interrupted before it wrote the index, or an index
    // rolled back or edited to drop erasures (offsite_fetch.h).
    std::set<std::string> named;
    for (const auto& c : index.ledger) named.insert(c.object.key);
    std::string unnamed;
    for (const auto& o : target.list("ledger/"))
      if (!named.count(o.key)) unnamed += (unnamed.empty() ? "" : ", ") + o.key;
    report.checks.push_back({"ledger objects", unnamed.empty(),
                             unnamed.empty() ? "every ledger object in the target is named by its index"
                                             : "not named by the index: " + unnamed + " (a push interrupted before it wrote the "
                                               "index, which the next push repairs, or an index rolled back or edited to drop "
                                               "erasures; a restore applies the erasures they hold)"});
  }
  {
    // Segment objects the index does not name: left by a push killed between a new segment's PUT and
    // index.json's, or between index.json and the DELETE of the segment it replaced (OffsiteStore::write_index:
    // the next push from that backup directory deletes them, one from a lost machine's never will). No reader
    // looks at them, so they are named here without failing the target.
    std::set<std::string> named;
    for (const auto& g : index.segments) named.insert(g.object.key);
    std::string unnamed;
    size_t count = 0;
    for (const auto& o : target.list("oplog-index/"))
      if (!named.count(o.key) && count++ < 10) unnamed += (unnamed.empty() ? "" : ", ") + o.key;
    report.checks.push_back({"segment objects", true,
                             count == 0 ? "every slice segment object in the target is named by its index"
                                        : counted(count, "slice segment object") + " named by nothing (" + unnamed +
                                              (count > 10 ? ", …" : "") + "): left by a push killed while it rewrote the index; "
                                              "unused, and deleted by the next push from the backup directory that left them"});
  }
  if (!options.read_data) return report;

  fs::path work = store.scratch() / "read-data";
  try {
    std::string ledger = fetch_ledger(store, index, keys);
    report.checks.push_back({"ledger data", true, std::to_string(ledger.size()) + " bytes downloaded, every chunk's sha256 matches"});
  } catch (const Error& e) {
    if (e.code() == ExitCode::kUsage) throw;  // no key given for encrypted objects: the target is not at fault
    report.checks.push_back({"ledger data", false, e.what()});
  }
  FetchedBackup fetched;
  try {
    fetched = fetch_backup(store, index, options.which, options.db, std::nullopt, keys, work);
    report.checks.push_back({"download", true, fetched.remote.name + " and " + counted(fetched.slices.size(), "slice") +
                                                   ", " + std::to_string(fetched.bytes) + " bytes, checked" +
                                                   (keys && !fetched.remote.object.key_id.empty() ? " and decrypted" : "")});
  } catch (const Error& e) {
    if (e.code() == ExitCode::kNotFound || e.code() == ExitCode::kUsage) throw;  // no such archive; no key given
    report.checks.push_back({"download", false, e.what()});
    return report;
  }
  VerifyOptions vo;
  vo.backup_dir = work;
  vo.scratch_dir = store.scratch();
  auto inner = verify_backup(fetched.archive.string(), vo);
  for (auto& c : inner.checks) report.checks.push_back({"test restore: " + c.name, c.ok, c.detail});
  if (inner.ok()) {
    // The archive's own manifest names the backup the index says it is (not another's object copied over it).
    const std::string object_name = store.target().url() + "/" + fetched.remote.object.key;
    try {
      require_archive_is(fetched.remote, read_archive_manifest(fetched.archive), object_name);
      report.checks.push_back({"archive identity", true, "its own manifest is " + fetched.remote.name + ", at the oplog positions the index recorded"});
    } catch (const Error& e) {
      report.checks.push_back({"archive identity", false, e.what()});
    }
  }
  try {
    int64_t entries = for_each_replay_entry(fetched.window, {}, OplogTimestamp::from_packed(UINT64_MAX), [](const OplogEntry&) {});
    report.checks.push_back({"oplog slices", true, counted(entries, "entry", "entries") + " decoded, reaching " +
                                                       oplog_position_text(fetched.window.reach)});
  } catch (const Error& e) {
    report.checks.push_back({"oplog slices", false, e.what()});
  }
  return report;
}

}  // namespace facecrowd
