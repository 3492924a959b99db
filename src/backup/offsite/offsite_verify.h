// `facecrowd verify --target`: is what the target holds complete and intact, without trusting this
// machine's copies?
//   - "index": the target's index.json and its slice segments read (remote_index.h);
//   - "index authentication": its tag holds (index_auth.h; `trust` says what this machine knows): failed when
//     refused (tampered, stripped, rolled back, a key not given), ok with a warning when the target is
//     write-only or plaintext, or the tag could not be checked for want of a key; the rest is then checked
//     only when it is ok;
//   - "writer": which backup directory writes the target (writer_fence.h), for people; never fails;
//   - "objects": every object it names (segments included) exists with the recorded size and sha256 (x-amz-meta-sha256 /
//     the directory target's .sha256), read by stat: no download, no key needed. An object encrypted in
//     one pass carries no sha256 on S3 (the index records its MD5, or, for one uploaded before, its
//     sha256): its ETag, which S3 computed from the bytes it stored, is compared with the one the index
//     recorded instead; --read-data downloads it and checks its bytes against the index's MD5 (or sha256),
//     then decryption checks every chunk's MAC and the plaintext (crypto/sealed_upload.cpp says why an MD5
//     is enough here);
//   - "ledger chain": the ledger chunks are contiguous from byte 0 to the recorded length;
//   - "ledger objects": the target holds no ledger object its index does not name (one LIST request);
//   - "segment objects": the slice segment objects its index does not name (one LIST request), named
//     without failing (what a killed push leaves; nothing reads them);
//   - with read_data: the archive (latest, or the one named), its slices and the whole ledger are
//     downloaded into a scratch folder, checked against the index and decrypted (a key is needed for an
//     encrypted target), then the archive is test-restored by backup/verify.h into a throwaway database and
//     every slice entry decoded; "archive identity": the archive's own manifest is the backup the index
//     names (offsite_fetch.h's require_archive_is). Nothing of the live data or the backup directory is touched.
// Failures are reported as checks, not thrown (except kNotFound: no index or no such archive; kUsage, e.g. an
// encrypted object and no key given for it: the target is not at fault, so it is not reported as damaged).
#pragma once

#include "backup/crypto/object_crypto.h"
#include "backup/offsite/index_auth.h"
#include "backup/targets/backup_target.h"
#include "backup/verify.h"

namespace facecrowd {

struct OffsiteVerifyOptions {
  bool read_data = false;
  std::string which = "latest";    // with read_data: "latest" or an archive name
  std::string db = "face-recognition";
  fs::path scratch_parent;         // empty: the system temp dir
  IndexTrust trust;
};

// `keys` may be null (plaintext, or a metadata-only check).
VerifyReport verify_target(BackupTarget& target, const KeyRing* keys, const OffsiteVerifyOptions& options);

}  // namespace facecrowd
