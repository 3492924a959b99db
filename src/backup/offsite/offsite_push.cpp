#include "backup/offsite/offsite_push.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "backup/archive_manifest.h"
#include "backup/catalog.h"
#include "backup/offsite/index_auth.h"
#include "backup/oplog_shipper.h"
#include "backup/offsite/offsite_store.h"
#include "backup/offsite/push_lock.h"
#include "backup/offsite/writer_fence.h"
#include "backup/slice_integrity.h"
#include "core/error.h"
#include "core/files.h"
#include "core/sha256.h"
#include "core/number_text.h"

namespace facecrowd {
namespace {

std::string sha_of_prefix(const fs::path& file, uint64_t bytes) {
  std::ifstream in(file, std::ios::binary);
  Sha256 sha;
  std::vector<char> buf(1 << 20);
  uint64_t left = bytes;
  while (left > 0 && in) {
    in.read(buf.data(), std::streamsize(std::min<uint64_t>(buf.size(), left)));
    sha.update(buf.data(), size_t(in.gcount()));
    left -= uint64_t(in.gcount());
  }
  if (left) throw Error(ExitCode::kIo, "cannot read the first " + std::to_string(bytes) + " bytes of '" + file.string() + "'");
  return sha.hex_digest();
}

// The ledger's length up to and including its last newline (a torn last line is not an erasure yet).
uint64_t complete_ledger_bytes(const fs::path& file) {
  std::string text = read_file(file);
  auto last = text.rfind('\n');
  return last == std::string::npos ? 0 : last + 1;
}

// When `plan` deletes an archive or slice the index names, checks (one lookup each) that the index's archives
// it keeps are in the target whole (object and manifest copy, at their recorded sizes), and removes from
// `index` those that are not, with a warning each. True when it removed any.
bool drop_missing_kept_archives(BackupTarget& target, RemoteIndex& index, const RetentionPlan& plan, std::vector<std::string>& warnings) {
  const std::set<std::string> doomed_archives(plan.archives.begin(), plan.archives.end());
  bool deletes = false;
  for (const auto& a : index.archives) deletes = deletes || doomed_archives.count(a.name);
  if (!deletes && !plan.slices.empty()) {
    const auto named = slice_positions(index);
    for (const auto& name : plan.slices) deletes = deletes || named.count(name);
  }
  if (!deletes) return false;
  auto gone = [&](const RemoteObject& o) -> std::string {
    auto info = target.stat(o.key);
    if (!info) return "'" + o.key + "' is missing";
    if (info->size != o.size)
      return "'" + o.key + "' has " + std::to_string(info->size) + " bytes, not the " + std::to_string(o.size) + " the index recorded";
    return "";
  };
  const size_t before = index.archives.size();
  std::erase_if(index.archives, [&](const RemoteArchive& a) {
    if (doomed_archives.count(a.name)) return false;
    std::string why = gone(a.object);
    if (why.empty()) why = gone(a.manifest_object);
    if (why.empty()) return false;
    warnings.push_back("archive " + a.name + " in the index of '" + target.url() + "' is not whole in the target (" + why +
                       "): it was taken out of the index (and sent again when the backup directory still holds it) "
                       "before remote retention deleted anything in its favour");
    return true;
  });
  return index.archives.size() != before;
}

// A target without index.json that holds archives, slices or ledger chunks this backup directory does not
// have lost its index (deleted by hand or by an attacker, or a server answered 404 for it). A new index made
// from the backup directory alone would forget every backup only the target still has, and the encryption
// the lost index recorded (a configuration without a key would then upload plaintext): refused, kConflict.
// Objects this push would send anyway (those a first push left when it was killed before writing the index)
// are not a lost index.
void refuse_new_index_over_lost_one(BackupTarget& target, BackupCatalog& catalog) {
  std::set<std::string> ours{ledger_chunk_key(0)};
  for (const auto& a : catalog.archives()) {
    ours.insert(archive_key(a.path.filename().string()));
    ours.insert(archive_manifest_key(a.path.filename().string()));
  }
  for (const auto& sl : catalog.slices()) {
    ours.insert(slice_key(sl.path.filename().string()));
    ours.insert(slice_record_key(sl.path.filename().string()));
  }
  for (const char* folder : {"archives/", "oplog/", "ledger/"}) {
    size_t foreign = 0;
    std::string example;
    for (const auto& o : target.list(folder))
      if (!ours.count(o.key) && foreign++ == 0) example = o.key;
    if (foreign == 0) continue;
    throw Error(ExitCode::kConflict,
                "backup target '" + target.url() + "' has no " + RemoteIndex::kKey + " but holds " + std::to_string(foreign) +
                    " objects under " + folder + " that this backup directory lacks (e.g. '" + example +
                    "'): its index was lost (deleted, or the server answered 404 for it). A new index made from this "
                    "machine's backups would forget every backup only the target still has (and whether the target is "
                    "encrypted), so nothing was uploaded. Put " + RemoteIndex::kKey +
                    " back (the bucket's object versioning keeps old versions), or send this deployment to a new prefix "
                    "(`facecrowd target set s3://BUCKET/NEW-PREFIX`)");
  }
}

}  // namespace

nlohmann::json PushResult::to_json() const {
  return {{"target", target}, {"uploaded", uploaded}, {"bytes", bytes}, {"ledger_bytes", ledger_bytes},
          {"pruned", pruned}, {"encryption", encryption}, {"warnings", warnings}, {"not_sent", not_sent}, {"seconds", seconds}};
}

std::string PushResult::summary() const {
  std::string s = "off-site '" + target + "': uploaded " + counted(uploaded.size(), "object") + " (" +
                  std::to_string(bytes) + " bytes)";
  if (ledger_bytes) s += ", " + std::to_string(ledger_bytes) + " new erasure ledger bytes";
  // Objects, not backups: an archive goes with its manifest copy, a slice with its record.
  if (!pruned.empty()) s += ", remote retention deleted " + counted(pruned.size(), "object");
  s += encryption.empty() ? ", plaintext" : ", encrypted (" + encryption + ")";
  return s;
}

PushResult push_to_target(const fs::path& backup_dir, BackupTarget& target, const TargetConfig& config,
                          const PushOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const UnixMillis now = options.now ? options.now : now_millis();
  // Waits: a ship and a backup both push, one after the other. A refused push leaves no lock file (push_lock.h).
  PushLock lock = PushLock::wait(backup_dir);
  OffsiteStore store(target, backup_dir);
  PushResult result;
  result.target = target.url();
  std::optional<RemoteIndex> read = store.read_index();
  const bool had_index = read.has_value();
  RemoteIndex index = read.value_or(RemoteIndex{});
  auto keys = keys_for_upload(config, index);  // fails closed before anything is uploaded
  if (keys) result.encryption = config.encryption + ", key " + keys->encrypting_key_id();
  // Nothing in the index is believed (and so re-signed below) before its tag is checked: an edited index
  // would otherwise be laundered by the next ship. An index an older facecrowd wrote is signed from now on,
  // unless this machine signed this target's index before (then its tag was stripped).
  const IndexTrust trust = push_trust(backup_dir, target.url(), keys.get());
  bool sign_unsigned_index = false;  // written at the end even when nothing else changed
  if (had_index) {
    auto auth = store.authenticate_index(index, keys.get(), trust);
    sign_unsigned_index = auth.status == "unauthenticated-allowed";
    if (sign_unsigned_index) result.warnings.push_back(auth.warning);
  }
  // One writer per target (writer_fence.h): a target another backup directory writes is refused before
  // anything is sent, deleted or written here (the identity file included); an index naming no writer is
  // claimed by this push.
  refuse_other_writer(index, backup_dir, target.url());
  const WriterIdentity me = writer_identity(backup_dir);
  const bool claims = !index.writer;
  if (claims) index.writer = writer_entry(me);
  // A push killed in a multipart upload left its parts in the bucket; this one aborts them first.
  target.set_upload_journal(backup_dir / kUploadJournalFolder);
  for (auto& line : target.abort_interrupted_uploads()) result.warnings.push_back(std::move(line));
  // A lost index made anew continues the sequence, so an older one put back later is still found older.
  if (trust.last_signed) index.sequence = std::max(index.sequence, trust.last_signed->sequence);
  // Set by the archive lane: such a push (minutes long) reads index.json again before each write of it and
  // refuses to write over an index someone else wrote meanwhile (writer_fence.h); a push of slices alone does not.
  std::atomic<bool> sends_archive = false;
  bool index_in_target = had_index;
  auto write_index = [&](RemoteIndex& written) {
    if (sends_archive)
      refuse_index_written_meanwhile(store.read_index_again(), index_in_target ? std::optional(store.sequence()) : std::nullopt, target.url());
    auto warnings = store.write_index(written, keys.get());
    index_in_target = true;
    if (trust.tagged_config) remember_signed_index(backup_dir, target.url(), {written.sequence, store.written_index_digest()});
    return warnings;
  };
  std::mutex tally;  // the result, which the two sending lanes below both add to
  auto upload = [&](const std::string& key, const fs::path& file, const std::string& known_sha256 = "") {
    auto object = store.upload(key, file, keys.get(), known_sha256);
    std::lock_guard lock(tally);
    result.uploaded.push_back(key);
    result.bytes += object.size;
    return object;
  };

  BackupCatalog catalog(backup_dir);
  if (!had_index) refuse_new_index_over_lost_one(target, catalog);
  // The slices are this directory's shipped database's oplog: a push of another database's backup prunes
  // them by their own database's archives (offsite_retention.h).
  const std::string slices_db = shipped_database(catalog).value_or(options.db);
  // A backup writes an archive's manifest copy before the archive takes its final name, so an archive whose
  // copy is missing or unreadable lost it (deleted, damaged): it was skipped here without a word and never
  // went off-site. The copy is a cache of the archive's own manifest (manifest.h): it is rewritten from that
  // (one decompression), and only an archive whose own manifest cannot be read either stays here, with a
  // warning naming it.
  std::vector<ArchiveInfo> archives = catalog.archives();
  for (auto& a : archives) {
    const std::string name = a.path.filename().string();
    if (a.manifest || index.find_archive(name)) continue;
    const fs::path sidecar = manifest_copy_path(a.path);
    try {
      Manifest own = read_archive_manifest(a.path);
      write_file_durably(sidecar, own.to_json().dump(2));
      a.manifest = std::move(own);
      result.warnings.push_back("the manifest copy '" + sidecar.string() + "' was missing or damaged; it was rewritten from the "
                                "archive's own manifest, and the archive goes off-site with it");
    } catch (const Error& e) {
      result.not_sent.push_back(name);
      result.warnings.push_back("archive '" + a.path.string() + "' was NOT sent off-site: its manifest copy is missing or damaged "
                                "and its own manifest cannot be read (" + std::string(e.what()) +
                                "); check it with `facecrowd verify " + a.path.string() + "`");
    }
  }
  // Archives written by earlier runs are read once on their way up too: their writer's sha256 is in the log.
  std::map<std::string, std::string> archive_sha256 = catalog.recorded_archive_sha256();
  for (const auto& [name, sha] : options.archive_sha256) archive_sha256[name] = sha;
  // A format 1 index (slices inline) is rewritten as format 2 by this push, whatever else it sends.
  std::atomic<bool> changed = had_index && index.format_version != RemoteIndex::kFormatVersion;
  const std::vector<SliceInfo> local_slices = catalog.slices();
  // What remote retention would delete at once is never sent: the local directory keeps archives longer
  // (its own --keep-days) than the target's one-a-day policy, and each push would upload them again.
  std::set<std::string> skip;
  // What retention would do with the index and what this push would add to it. The segments that may hold
  // slices it deletes are loaded first (deleting a slice takes its keys): normally none, and those a new
  // archive moved the point-in-time window past.
  auto plan_with_local = [&] {
    for (;;) {
      RemoteIndex planned = index;
      for (const auto& a : archives)
        if (a.manifest && !planned.find_archive(a.path.filename().string()))
          planned.archives.push_back({{}, {}, a.path.filename().string(), a.db, a.created, a.bytes, *a.manifest});
      const auto named = slice_positions(planned);
      for (const auto& s : local_slices)
        if (!named.count(s.path.filename().string()))
          planned.slices.push_back({{}, s.path.filename().string(), s.from, s.to, s.bytes});
      auto plan = plan_remote_retention(planned, options.db, options.retention, now, slices_db);
      if (!store.load_segments(index, [&](const SliceSegment& g) { return g.first_to <= plan.slices_through; })) return plan;
    }
  };
  if (options.prune) {
    auto plan = plan_with_local();
    // Before retention deletes anything, the archives it keeps in their place must really be in the bucket:
    // an index that names an archive whose object is gone (deleted by hand or by a lifecycle rule, never
    // uploaded whole) would otherwise have the last restorable backups deleted in favour of one that is not
    // there. Such an archive leaves the index (and goes up again below when this machine still has it), and
    // retention is planned again without it.
    if (drop_missing_kept_archives(target, index, plan, result.warnings)) {
      changed = true;
      plan = plan_with_local();
    }
    skip.insert(plan.archives.begin(), plan.archives.end());
    skip.insert(plan.slices.begin(), plan.slices.end());
  }
  // Which local slices the target has, without downloading every segment: an hour whose local slices (and
  // whether each has a record) give the digest index.json records for its segment is there whole; the
  // segments of the other hours with slices to send are loaded (normally the current hour's alone, whose
  // new slice joins it). A segment loaded above for retention is looked up by name instead.
  std::set<std::string> hours_in_target;
  {
    std::map<std::string, std::vector<SliceName>> local_by_hour;
    for (const auto& s : local_slices)
      if (!skip.count(s.path.filename().string()))
        local_by_hour[slice_hour(s.to)].push_back({s.path.filename().string(), fs::exists(slice_record_path(s.path))});
    store.load_segments(index, [&](const SliceSegment& g) {
      auto local = local_by_hour.find(g.hour);
      if (local == local_by_hour.end()) return false;
      if (slice_names_digest(local->second) != g.names_sha256) return true;
      hours_in_target.insert(g.hour);
      return false;
    });
  }
  // The index is written once, at the end of the push; the lanes below add their entries to it as their
  // objects are whole in the target. A push killed after a large archive went up but before that write
  // (while its slices still go up, or before the next archive) would send the archive whole again next time.
  // So after an archive, when more of this push follows, the index as it stands is written too, when that is
  // the cheaper of the two: the archive is at least 1 MiB and twice the index's size (an index holding a week
  // of minute slices is a few MB; a small archive is cheaper to send again than such an index). Asking the
  // bucket instead whether an object of the right size is there would cost a request per archive on every
  // push and could not prove it whole: an encrypted object's digest is known only from its upload, and a
  // killed PUT can leave a truncated object on some servers. Any index written is one the push may leave:
  // every entry in it names objects that are whole (as when a push fails part-way, below).
  std::mutex index_mutex;  // the index: both lanes add to it, the archive lane writes it part-way
  std::atomic<bool> second_lane_done = false;
  auto record_progress = [&](uint64_t archive_bytes) {
    constexpr uint64_t kWorthRecordingFrom = uint64_t(1) << 20;
    if (archive_bytes < kWorthRecordingFrom) return;
    RemoteIndex now_recorded;
    {
      std::lock_guard guard(index_mutex);
      now_recorded = index;
    }
    if (archive_bytes < 2 * uint64_t(now_recorded.to_json().dump(1).size())) return;
    try {
      write_index(now_recorded);
    } catch (const Error& e) {  // only progress: the write at the end of the push reports a lasting failure
      if (e.code() == ExitCode::kConflict) throw;  // another writer (writer_fence.h): sending more is wasted
    }
  };
  auto send_archives = [&] {
    std::vector<const ArchiveInfo*> sending;
    for (const auto& a : archives) {
      const std::string name = a.path.filename().string();
      if (index.find_archive(name) || !a.manifest || skip.count(name)) continue;  // no manifest: warned above
      sending.push_back(&a);
    }
    for (size_t i = 0; i < sending.size(); ++i) {
      const ArchiveInfo& a = *sending[i];
      const std::string name = a.path.filename().string();
      const fs::path sidecar = manifest_copy_path(a.path);
      RemoteArchive r;
      r.name = name;
      r.db = a.db;
      r.created = a.created;
      r.plain_bytes = a.bytes;
      r.manifest = *a.manifest;
      sends_archive = true;
      r.manifest_object = upload(archive_manifest_key(name), sidecar);
      auto known = archive_sha256.find(name);
      r.object = upload(archive_key(name), a.path, known == archive_sha256.end() ? "" : known->second);  // last: the index names it only after both are up
      const uint64_t archive_bytes = r.object.size;
      {
        std::lock_guard guard(index_mutex);
        index.archives.push_back(std::move(r));
      }
      changed = true;
      if (i + 1 < sending.size() || !second_lane_done) record_progress(archive_bytes);
    }
  };
  auto send_slices_and_ledger = [&] {
    const auto pushed_at = slice_positions(index);  // this lane alone adds slices, after these
    for (const auto& s : local_slices) {
      const std::string name = s.path.filename().string();
      if (skip.count(name) || hours_in_target.count(slice_hour(s.to))) continue;
      // The record goes first and with every slice, so a restore from the target checks the slice's entry
      // count and its link to the slice before it; one pushed before records went off-site gets it now.
      const fs::path record = slice_record_path(s.path);
      const bool has_record = fs::exists(record);
      auto at = pushed_at.find(name);
      if (at != pushed_at.end()) {
        RemoteSlice* pushed = &index.slices[at->second];
        if (pushed->record || !has_record) continue;
        auto uploaded_record = upload(slice_record_key(name), record);
        std::lock_guard guard(index_mutex);
        pushed->record = std::move(uploaded_record);
        changed = true;
        continue;
      }
      RemoteSlice r;
      // The record holds the slice's sha256 (written with it), so the slice is read once on its way up; a
      // record that does not parse is the restore's to refuse, the slice is then hashed as it is read.
      std::string slice_sha;
      if (has_record) {
        r.record = upload(slice_record_key(name), record);
        try {
          if (auto parsed = read_slice_record(record); parsed && parsed->bytes == s.bytes) slice_sha = parsed->sha256;
        } catch (const Error&) {
        }
      }
      r.object = upload(slice_key(name), s.path, slice_sha);
      r.name = name;
      r.from = s.from;
      r.to = s.to;
      r.plain_bytes = s.bytes;
      {
        std::lock_guard guard(index_mutex);
        index.slices.push_back(std::move(r));
      }
      changed = true;
    }

    std::error_code ec;
    if (!options.ledger_file.empty() && fs::exists(options.ledger_file, ec)) {
      uint64_t local = complete_ledger_bytes(options.ledger_file);
      if (local < index.ledger_bytes) {
        std::lock_guard lock(tally);
        result.warnings.push_back("the local erasure ledger (" + std::to_string(local) + " bytes) is shorter than the target's (" +
                                  std::to_string(index.ledger_bytes) + "): the target holds erasures this machine lacks; a "
                                  "restore from the target re-applies them");
      } else {
        if (index.ledger_bytes > 0 && sha_of_prefix(options.ledger_file, index.ledger_bytes) != index.ledger_sha256)
          throw Error(ExitCode::kConflict, "the local erasure ledger '" + options.ledger_file.string() +
                                               "' does not begin with the ledger target '" + target.url() +
                                               "' holds; the target's ledger is never overwritten. Restore from the target "
                                               "(which merges both ledgers) or investigate which one is wrong");
        if (local > index.ledger_bytes) {
          std::string text = read_file(options.ledger_file).substr(index.ledger_bytes, local - index.ledger_bytes);
          fs::path chunk = store.write_scratch("ledger-chunk.jsonl", text);
          RemoteLedgerChunk c{upload(ledger_chunk_key(index.ledger_bytes), chunk), index.ledger_bytes, local - index.ledger_bytes, sha256_hex(text)};
          const std::string ledger_sha256 = sha_of_prefix(options.ledger_file, local);
          std::lock_guard guard(index_mutex);
          index.ledger.push_back(c);
          result.ledger_bytes = c.length;
          index.ledger_bytes = local;
          index.ledger_sha256 = ledger_sha256;
          changed = true;
        }
      }
    }
  };
  // Two lanes, each on a connection of its own: the archives with their manifest copies here, the slices with
  // their records and the ledger's new bytes on a second thread. A push's small requests and its slices then
  // go up while the archive does, instead of one round trip after another behind it (s3rver answers each
  // small object in 6-9 ms, S3 in tens of ms). Each lane keeps its own order and adds only its own entries to
  // the index (archives / slices and ledger), so neither waits for the other.
  std::exception_ptr archives_failed, slices_failed;
  {
    std::thread second_lane([&] {
      try {
        send_slices_and_ledger();
      } catch (...) {
        slices_failed = std::current_exception();
      }
      second_lane_done = true;
    });
    try {
      send_archives();
    } catch (...) {
      archives_failed = std::current_exception();
    }
    second_lane.join();
  }
  if (archives_failed || slices_failed) {
    // What did go up is recorded (each entry joins the index only once its objects are whole in the target),
    // so the next push sends only the rest instead of everything again: a push that keeps failing on one
    // object (a refused key, a quota) would otherwise upload the same archive at every ship.
    if (changed) {
      try {
        write_index(index);
      } catch (const Error&) {  // the first failure is the one to report
      }
    }
    std::rethrow_exception(archives_failed ? archives_failed : slices_failed);
  }

  RetentionPlan plan;
  if (options.prune) {
    plan = plan_remote_retention(index, options.db, options.retention, now, slices_db);
    if (store.load_segments(index, [&](const SliceSegment& g) { return g.first_to <= plan.slices_through; }))
      plan = plan_remote_retention(index, options.db, options.retention, now, slices_db);
  }
  std::vector<std::string> doomed;
  if (!plan.archives.empty() || !plan.slices.empty()) {
    std::set<std::string> a(plan.archives.begin(), plan.archives.end()), s(plan.slices.begin(), plan.slices.end());
    std::erase_if(index.archives, [&](const RemoteArchive& x) {
      if (!a.count(x.name)) return false;
      doomed.push_back(x.object.key);
      doomed.push_back(x.manifest_object.key);
      return true;
    });
    std::erase_if(index.slices, [&](const RemoteSlice& x) {
      if (!s.count(x.name)) return false;
      index.slices_pruned_through = std::max(index.slices_pruned_through, x.to);
      doomed.push_back(x.object.key);
      if (x.record) doomed.push_back(x.record->key);
      return true;
    });
    changed = true;
  }
  if (changed || !had_index || sign_unsigned_index || claims)
    for (auto& warning : write_index(index)) result.warnings.push_back(std::move(warning));
  for (const auto& key : doomed) {
    try {
      target.remove(key);
      result.pruned.push_back(key);
    } catch (const Error& e) {
      result.warnings.push_back(std::string("could not delete pruned object: ") + e.what());
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace facecrowd
