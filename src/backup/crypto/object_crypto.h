// Encryption of backup objects (archives, oplog slices, manifests, ledger chunks) before they leave the
// machine: libsodium secretstream (XChaCha20-Poly1305) with a fresh random data key per object.
//
// Object format (all integers are bytes as written):
//   "FCRYPT01"                       8  magic: an object without it is plaintext
//   wrap kind                        1  1 = data key wrapped with a symmetric key (key file or passphrase)
//                                       2 = data key sealed to a public key (crypto_box_seal): write-only
//   key id                          16  which key: BLAKE2b-128 of the symmetric key / the public key
//   wrapped data key        72 or 80     kind 1: nonce(24) + secretbox(32 + 16); kind 2: seal(32 + 48)
//   secretstream header             24
//   chunks                              64 KiB of plaintext each + 17 bytes; the last, possibly shorter
//                                       (even empty), carries TAG_FINAL
// A missing final tag is a truncated object; bytes after it, or a chunk that fails authentication, a
// tampered one: both are refused (Error kBadInput naming the object), and the output file is never left
// behind. Key rotation: new objects use the keyring's first key; old ones name their key by id in the
// header, so any key in the ring opens them.
//
// Keys (KeyRing):
//   key file        32 random bytes as 64 hex characters; must be mode 0600 (or stricter), else refused
//   passphrase      argon2id (crypto_pwhash, the MODERATE limits) with a 16-byte salt kept in the target's
//                   index, so every run derives the same key
//   public key      write-only mode: `<file>.pub` (64 hex) encrypts; the secret key file `<file>` (0600),
//                   kept offline, is needed only to restore
//   index signing   a write-only pair `target keygen --write-only` makes now (format 2) has one more line in each
//                   file (crypto/index_signing.h): `<file>.pub`, the server's, then holds a secret and is 0600:
//                     <64 hex public key>\nindex-signing-key <64 hex Ed25519 seed>\n
//                   and the offline `<file>`:
//                     <64 hex private key>\nindex-verify-key <64 hex Ed25519 public key>\n
//                   A pair made before (format 1: the key line alone) still works; its target's index is not
//                   signed. The label is the format's version: a line with another label, or a key that is not
//                   64 hex characters, is refused (kBadInput naming the file and the line's label, never its
//                   content); an older facecrowd refuses a format 2 file as "does not hold a key".
// Every key is held in sodium_malloc'd memory (locked, guarded) and wiped (sodium_memzero/sodium_free).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backup/targets/backup_target.h"

namespace facecrowd {

namespace fs = std::filesystem;

// Plaintext bytes per secretstream chunk; each chunk is stored with 17 more (tag and MAC).
inline constexpr size_t kEncryptedChunkBytes = 64 * 1024;

// 32 bytes in guarded memory, wiped when destroyed.
class SecretKey {
 public:
  SecretKey();
  ~SecretKey();
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  unsigned char* data() { return bytes_; }
  const unsigned char* data() const { return bytes_; }
  static constexpr size_t kSize = 32;

 private:
  unsigned char* bytes_;
};

class KeyRing {
 public:
  // A symmetric key from a key file. Error(kUsage) when the file is readable by group or others,
  // kBadInput when it does not hold 64 hex characters, kNotFound when missing.
  void add_key_file(const fs::path& file);
  // A symmetric key from a passphrase and the target's salt (argon2id).
  void add_passphrase(const std::string& passphrase, const std::array<unsigned char, 16>& salt);
  // Write-only encryption: the public key (64 hex characters in `file`) and, in a format 2 file (0600, else
  // Error kUsage), the index signing key. Error(kUsage) for a private key file.
  void add_public_key_file(const fs::path& file);
  // Decryption of write-only objects: the secret key file (0600) whose public key is `<file>.pub`, and its
  // index verify key in a format 2 file. Error(kUsage) for the server's format 2 file (no private key).
  void add_box_secret_key_file(const fs::path& file);
  // A key file given to a restore or verify (--key-file): a format 2 write-only private file is added as that;
  // any other file holds a symmetric key or a format 1 write-only private key, which look alike, and is added
  // as both (ids differ). The server's format 2 file: Error(kUsage) saying which file restores.
  void add_restore_key_file(const fs::path& file);

  // The target's "encryption" setting, as its index records it ("" when unknown): lets a refusal say what
  // the target needs (write-only: the private key) instead of listing every kind of key.
  void set_target_encryption(const std::string& encryption) { target_encryption_ = encryption; }
  const std::string& target_encryption() const { return target_encryption_; }

  bool can_encrypt() const;            // a first key or public key exists
  std::string encrypting_key_id() const;  // hex; "" when none
  std::vector<std::string> key_ids() const;  // every key that can decrypt, hex
  // For a refusal: each key file or passphrase given that could open a symmetric (or, `write_only`, a sealed)
  // object, once, with its key id: "key file '/etc/k' is key 0123…; the passphrase (…) is key 4567…", or
  // "none". A key file given to a restore is tried as both kinds (the ids differ): listing key_ids() named
  // two ids for one file, one of them of a key kind the target does not use.
  std::string keys_given(bool write_only) const;

  // `plain` -> `sealed` (through a temporary name; nothing left at `sealed` on failure; not fsynced): the
  // bytes seal_for_upload sends, written to a file (tests, and tools that want an encrypted copy). Returns the
  // sha256 (hex) of `sealed`, hashed as it is written.
  std::string encrypt_file(const fs::path& plain, const fs::path& sealed) const;
  // `plain` encrypted as the upload sends it, in one pass, with nothing written to disk (sealed_upload.cpp):
  // the object format above (decrypt_file opens it). Its size is known at once, its
  // sha256 only once it has been sent (the target hashes the bytes it stores). `plain_sha256` (hex, may be
  // empty): the sha256 recorded when `plain` was written; a file that no longer matches it stops the upload
  // before its last bytes (kBadInput naming the file), so nothing is stored.
  std::unique_ptr<UploadSource> seal_for_upload(const fs::path& plain, const std::string& plain_sha256) const;
  // `sealed` -> `plain`. `object` names the object in every refusal (wrong key, tampered, truncated).
  void decrypt_file(const fs::path& sealed, const fs::path& plain, const std::string& object) const;

  // Authentication of a target's index (offsite/index_auth.h), of its canonical `digest`, by one of:
  //   kIndexMac        HMAC-SHA-512-256 (crypto_auth) under a subkey derived from a symmetric key of the ring
  //                    (crypto_kdf, context "fcindex1", subkey 1), never the key itself, so the data-encryption
  //                    key is used for nothing but wrapping data keys; key_id: that key's;
  //   kIndexSignature  Ed25519 (crypto/index_signing.h) by a write-only pair's signing key; key_id: the pair's
  //                    (its public key's id, which its objects carry too).
  // index_tag: by the encrypting key (a symmetric key, or a write-only pair with a signing key); nullopt
  // when it has neither (a format 1 write-only pair, or no key).
  static constexpr const char* kIndexMac = "hmac-sha512-256-blake2b";
  static constexpr const char* kIndexSignature = "ed25519-blake2b";
  struct IndexTag {
    std::string alg, key_id, tag;  // tag: the MAC or the signature, hex
  };
  std::optional<IndexTag> index_tag(const std::string& digest) const;
  enum class TagCheck { kValid, kMismatch, kKeyNotGiven };
  // kKeyNotGiven: no key of the ring with that id checks that kind of tag.
  TagCheck check_index_tag(const std::string& digest, const IndexTag& tag) const;
  // Which key of the ring checks `tag`, for reports: "key file '/etc/k'", "the passphrase (…)", "public key file
  // '/etc/k.pub' (this server's index signing key)"; "" when none does.
  std::string index_key_source(const IndexTag& tag) const;
  bool holds_symmetric_key() const;    // a key file or passphrase that can decrypt (and authenticate)
  bool holds_index_verify_key() const;  // a write-only pair's verify (or signing) key: its index is signed

 private:
  struct Entry;
  // A new object's header up to its secretstream header (magic, wrap kind, key id, wrapped data key), with
  // a fresh random data key written to `data_key`. Error(kUsage) when no key can encrypt.
  std::string begin_object(SecretKey& data_key) const;
  std::vector<std::shared_ptr<Entry>> entries_;
  std::shared_ptr<Entry> encrypting_;
  std::string target_encryption_;
};

// True when the file starts with the "FCRYPT01" magic.
bool is_encrypted_object(const fs::path& file);
// The key id (hex) in an encrypted object's header; "" when the file is not one.
std::string object_key_id(const fs::path& file);
// How an object's data key is wrapped, from its header: kNone for a file that is not an encrypted object.
enum class ObjectWrap { kNone, kSymmetric, kPublicKey };
ObjectWrap object_wrap(const fs::path& file);

// Writes a new key file (mode 0600, 64 hex characters). Error(kConflict) when `file` exists.
void generate_key_file(const fs::path& file);
// Writes a key pair for write-only mode, format 2 (above): `file` (private key and index verify key, 0600, kept
// offline) and `file`.pub (public key and index signing key, 0600, the server's). kConflict if either exists.
void generate_key_pair(const fs::path& file);

}  // namespace facecrowd
