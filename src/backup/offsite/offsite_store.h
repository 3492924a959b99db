// Moving facecrowd's files to and from a backup target (remote_index.h describes the layout): encryption
// on the way out, checks and decryption on the way in, and the index.
//
// - upload(): puts the file, encrypted as it is sent when `keys` is given (nothing encrypted is written to
//   disk), and returns what was stored.
// - download(): gets the object, checks its stored size and digest (sha256 or MD5) against the index entry (Error
//   kBadInput naming the object on a mismatch: damaged, truncated or replaced), decrypts it when the entry
//   has a key id, and only then renames the result to `dest`: on any failure nothing is left at `dest`.
//   An object encrypted but no keys given: Error(kUsage) saying which key it needs.
// - The scratch folder (removed when the store is destroyed, or by the next store beside it when the process
//   was killed) sits beside the caller's files, so the final
//   renames stay on one file system. What write_scratch() puts there (the index and a ledger chunk on their
//   way up) is written without fsync: it only exists to be uploaded and is deleted after, so a crash could
//   never need it, and the two fsyncs of a durable write cost 2-15 ms of every push here.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>
#include <string_view>

#include "backup/crypto/object_crypto.h"
#include "backup/offsite/index_auth.h"
#include "backup/offsite/remote_index.h"
#include "backup/targets/backup_target.h"

namespace facecrowd {

// Removes from `dir` what a killed transfer left: `.offsite-tmp-<pid>-N` scratch folders and downloads
// `<archive, manifest copy, slice or record name>.partial-<pid>`, where <pid> no longer runs. Nothing else.
// Returns what was removed. The store's constructor runs it on its scratch parent.
std::vector<fs::path> remove_stale_offsite_leftovers(const fs::path& dir);

class OffsiteStore {
 public:
  OffsiteStore(BackupTarget& target, const fs::path& scratch_parent);
  ~OffsiteStore();
  OffsiteStore(const OffsiteStore&) = delete;
  OffsiteStore& operator=(const OffsiteStore&) = delete;

  BackupTarget& target() { return target_; }
  // The highest sequence of an index.json this store read or wrote (0: none).
  uint64_t sequence() const { return sequence_; }
  const fs::path& scratch() const { return scratch_; }
  // Writes `content` to the scratch file `name` (not synced: see above) and returns its path.
  fs::path write_scratch(const std::string& name, std::string_view content);

  // index.json alone (its segments not loaded: a push loads those it needs); nullopt when the target has
  // no index.json yet. Parsed, not yet authenticated: the keys that authenticate it may need its passphrase
  // salt. authenticate_index() follows before anything in it is used.
  std::optional<RemoteIndex> read_index();
  // index.json as it is in the target now, parsed (segments not loaded), leaving this store as it was (what
  // it read, wrote and authenticated): a push checks before it writes that nobody else wrote meanwhile
  // (writer_fence.h). nullopt when the target has no index.json.
  std::optional<RemoteIndex> read_index_again();
  // index.json and every segment it lists, for a reader (restore, verify, listing). Error(kNotFound) "no
  // facecrowd backups in target …" when there is none.
  RemoteIndex require_index();
  // Downloads the segments of `index` for which `wanted` is true and that are not loaded yet, each checked
  // against its size and sha256 before it is parsed (Error kBadInput naming the object: missing, damaged,
  // replaced, or not what index.json says). Nothing local changes. True when it loaded any.
  bool load_segments(RemoteIndex& index, const std::function<bool(const SliceSegment&)>& wanted);
  // Uploads the segments whose content changed (RemoteIndex::rebuild_segments), then index.json (format 2),
  // then deletes the segment objects the index no longer names (written earlier by this store, or named by
  // the index it read): every object index.json names exists whenever it is read. Returns a warning for
  // each old segment it could not delete (left in the target, named by nothing). index.json goes with its
  // sequence raised past every one this store read or wrote, signed when `keys` can (KeyRing::index_tag).
  //
  // Before its first PUT it writes the segment journal, `<scratch parent>/.offsite-segments-<16 hex of the
  // target URL's sha256>`: every segment key it may leave in the target (those it puts, those it replaces),
  // and it removes the journal when every key index.json does not name is deleted (or keeps there those it
  // could not delete). A push killed between a segment's PUT and index.json's, or between index.json and
  // the DELETE of a replaced segment, leaves an object nothing names, which no reader looks at and nothing
  // else would ever delete: the next write_index from the same scratch parent (a push of the same backup
  // directory) deletes the journal's keys that its index does not name. Why a local journal and not a LIST
  // of oplog-index/ with an age: no request is added to a push, and it deletes only what pushes of this
  // backup directory (serialised by offsite_push.h's lock) wrote or replaced, never the new segment of a
  // push from another machine that has not written its index.json yet. Not synced: a journal lost in a
  // crash only leaves such an object behind (verify lists them).
  std::vector<std::string> write_index(RemoteIndex& index, const KeyRing* keys);
  // The digest (hex) of the canonical bytes of the index write_index wrote last when it signed it; "" else.
  const std::string& written_index_digest() const { return written_digest_; }
  // Checks the tag of the index read last (index_auth.h; refusals throw, naming index.json; it covers the
  // segments through the sha256 index.json records for each). An index that is not trusted (write-only,
  // plaintext, an unchecked tag) is then believed only for objects a bucket attacker cannot make:
  // download() refuses an object encrypted with a symmetric key, and a plaintext one when `keys` holds a
  // key, naming index.json and --allow-unauthenticated-index. download() before this is a bug (Error
  // kInternal): nothing an index names is fetched unchecked.
  IndexAuthentication authenticate_index(const RemoteIndex& index, const KeyRing* keys, const IndexTrust& trust);

  // `plain_sha256`: the file's sha256 when known (recorded when it was written): a plaintext upload reads the
  // file once (BackupTarget::put), an encrypted one checks it while the sealed object is made and sent;
  // either way a file that no longer matches it is refused (kBadInput) and nothing is stored.
  RemoteObject upload(const std::string& key, const fs::path& plain, const KeyRing* keys,
                      const std::string& plain_sha256 = "");
  void download(const RemoteObject& object, const fs::path& dest, const KeyRing* keys);

 private:
  // GETs and parses index.json (nullopt: none), with the seal it carried.
  std::optional<std::pair<RemoteIndex, IndexSeal>> fetch_index();
  // Writes `keys` as the segment journal (write_index), or removes it when there are none.
  void write_segment_journal(const std::set<std::string>& keys);

  // Gets the object into `fetched`, checked against its recorded size and digest (kBadInput naming it).
  void fetch_checked(const RemoteObject& object, const fs::path& fetched);
  std::string index_name() const;  // "index '<target url>/index.json'"
  BackupTarget& target_;
  fs::path scratch_;
  // Segment keys in the target that an index.json may name: those the last index.json read or written
  // names, and those uploaded since. write_index deletes the ones its index no longer names.
  std::set<std::string> segments_in_target_;
  fs::path segment_journal_;  // see write_index
  IndexSeal seal_;                // of the index read last
  uint64_t sequence_ = 0;         // the highest sequence read or written
  std::string written_digest_;    // see written_index_digest
  bool index_authenticated_ = false;
  std::string untrusted_index_;   // why download() believes the index only for sealed objects; "" trusted
};

}  // namespace facecrowd
