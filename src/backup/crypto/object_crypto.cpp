#include "backup/crypto/object_crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "backup/crypto/index_signing.h"
#include "core/error.h"
#include "core/sha256.h"
#include "core/files.h"
#include "core/process_hardening.h"

namespace facecrowd {
namespace {

constexpr char kMagic[8] = {'F', 'C', 'R', 'Y', 'P', 'T', '0', '1'};
constexpr size_t kIdBytes = 16;
constexpr size_t kChunk = kEncryptedChunkBytes;
constexpr size_t kWrappedSymmetric = crypto_secretbox_NONCEBYTES + SecretKey::kSize + crypto_secretbox_MACBYTES;  // 72
constexpr size_t kWrappedSealed = crypto_box_SEALBYTES + SecretKey::kSize;                                        // 80
constexpr uint8_t kKindSymmetric = 1, kKindSealed = 2;

void init_sodium() {
  if (sodium_init() < 0) throw Error(ExitCode::kInternal, "libsodium could not be initialised");
}

std::string hex(const unsigned char* data, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

// A file holding a secret that group or others can read: Error(kUsage) with the chmod that mends it.
void refuse_if_others_can_read(const fs::path& file, const struct stat& st) {
  if (st.st_mode & 077)
    throw Error(ExitCode::kUsage, "key file '" + file.string() + "' is readable by other users (mode " +
                                      [&] { char b[8]; std::snprintf(b, sizeof b, "%04o", st.st_mode & 07777); return std::string(b); }() +
                                      "); run: chmod 600 '" + file.string() + "'");
}

std::array<unsigned char, kIdBytes> key_id_of(const unsigned char* key, size_t n) {
  std::array<unsigned char, kIdBytes> id{};
  static const unsigned char context[] = "facecrowd-backup-key-id";
  crypto_generichash(id.data(), id.size(), key, n, context, sizeof context - 1);
  return id;
}

constexpr const char* kSigningLabel = "index-signing-key";  // the server's file of a format 2 write-only pair
constexpr const char* kVerifyLabel = "index-verify-key";    // the offline private file of one

bool is_blank(const char* from, const char* to) { return std::strspn(from, " \t\r\n") >= size_t(to - from); }

// Reads a key file (object_crypto.h: its key as 64 hex characters, white space around it allowed, then in a
// format 2 file `<label> <64 hex>`) into `out` (32 bytes) and the labelled key into `second` (32 bytes).
// Returns the label, "" for a format 1 file. The text is wiped. Errors never quote the file's content.
std::string read_key_file(const fs::path& file, unsigned char* out, bool require_private, unsigned char* second) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno == ENOENT) throw Error(ExitCode::kNotFound, "key file '" + file.string() + "' does not exist");
    throw_io_error("cannot read key file", file, errno);
  }
  if (S_ISDIR(st.st_mode)) throw Error(ExitCode::kBadInput, "key file '" + file.string() + "' is a directory, not a key file");
  if (require_private) refuse_if_others_can_read(file, st);
  std::string text = read_file(file);
  struct Wipe {
    std::string& t;
    ~Wipe() { sodium_memzero(t.data(), t.size()); }
  } wipe{text};
  const char* const text_end = text.data() + text.size();
  auto hex_key = [&](const char* from, unsigned char* into, const char** end) {
    size_t used = 0;
    return sodium_hex2bin(into, SecretKey::kSize, from, size_t(text_end - from), " \t\r\n", &used, end) == 0 &&
           used == SecretKey::kSize;
  };
  const char* end = nullptr;
  if (!hex_key(text.data(), out, &end))
    throw Error(ExitCode::kBadInput, "key file '" + file.string() + "' does not hold a key (64 hexadecimal characters)");
  if (is_blank(end, text_end)) return "";
  // Format 2: one labelled key more.
  std::string label;
  for (const char* l : {kSigningLabel, kVerifyLabel})
    if (size_t(text_end - end) > std::strlen(l) && std::strncmp(end, l, std::strlen(l)) == 0 && end[std::strlen(l)] == ' ') label = l;
  if (label.empty())
    throw Error(ExitCode::kBadInput, "key file '" + file.string() + "' is damaged: after its key comes a line that is neither `" +
                                         kSigningLabel + " <64 hex>` nor `" + kVerifyLabel + " <64 hex>` (the lines a write-only "
                                         "pair's files hold)");
  const char* second_end = nullptr;
  if (!hex_key(end + label.size() + 1, second, &second_end) || !is_blank(second_end, text_end))
    throw Error(ExitCode::kBadInput, "key file '" + file.string() + "' is damaged: its " + label +
                                         " line does not hold a key (64 hexadecimal characters, and nothing after it)");
  return label;
}

// Reads 64 hex characters (surrounding white space allowed) into `out` (32 bytes): a key file's key, whatever
// the file holds after it. Returns read_key_file's label ("" for a format 1 file); the labelled key is wiped.
std::string read_hex_key(const fs::path& file, unsigned char* out, bool require_private) {
  unsigned char second[SecretKey::kSize];
  std::string label = read_key_file(file, out, require_private, second);
  sodium_memzero(second, sizeof second);
  return label;
}

// True when `public_file` holds the public key of the secret key in `secret_file`: the two files of a pair
// `target keygen --write-only` made. Only a proven pair counts; anything unreadable is not one.
bool is_key_pair(const fs::path& secret_file, const fs::path& public_file) {
  std::error_code ec;
  if (!fs::is_regular_file(secret_file, ec) || !fs::is_regular_file(public_file, ec)) return false;
  try {
    SecretKey secret;
    unsigned char given[crypto_box_PUBLICKEYBYTES], derived[crypto_box_PUBLICKEYBYTES];
    read_hex_key(secret_file, secret.data(), false);
    read_hex_key(public_file, given, false);
    crypto_scalarmult_base(derived, secret.data());
    return sodium_memcmp(derived, given, sizeof given) == 0;
  } catch (const Error&) {
    return false;
  }
}

fs::path with_pub_suffix(const fs::path& file) {
  fs::path pub = file;
  pub += ".pub";
  return pub;
}

void write_private_file(const fs::path& file, const std::string& text, mode_t mode) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) throw Error(ExitCode::kConflict, "'" + file.string() + "' exists; a key file is never overwritten");
    throw_io_error("cannot create key file", file, errno);
  }
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  if (n != ssize_t(text.size()) || ::fsync(fd) != 0) {
    ::close(fd);
    ::unlink(file.c_str());
    throw_io_error("cannot write key file", file, n < 0 ? err : ENOSPC);
  }
  ::close(fd);
}

class FdReader {
 public:
  explicit FdReader(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw_io_error("cannot open", path, errno);
  }
  ~FdReader() { ::close(fd_); }
  // Reads up to n bytes (fewer only at end of file).
  size_t read(void* buf, size_t n, const fs::path& path) {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::read(fd_, static_cast<char*>(buf) + got, n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw_io_error("cannot read", path, errno);
      if (r == 0) break;
      got += size_t(r);
    }
    return got;
  }

 private:
  int fd_;
};

// Writes to `<final>.partial-<pid>`; commit() fsyncs and renames. Destroyed uncommitted: removed.
class PartialOutput {
 public:
  // `scratch`: encryption's output, which is uploaded next and then deleted: its sha256 is kept as it is
  // written (the upload is signed with it without reading the file again), and it is not fsynced (a crash
  // loses a scratch file anyway; an fsync would force every byte to disk before the upload may start).
  PartialOutput(const fs::path& final_path, bool scratch) : final_(final_path), scratch_(scratch) {
    if (scratch) sha_.emplace();
    partial_ = final_path;
    partial_ += ".partial-" + std::to_string(::getpid());
    out_.emplace(partial_);
  }
  ~PartialOutput() {
    if (!committed_) {
      out_.reset();
      std::error_code ec;
      fs::remove(partial_, ec);
    }
  }
  void write(const void* d, size_t n) {
    out_->write(d, n);
    if (sha_) sha_->update(d, n);
  }
  std::string sha256() { return sha_->hex_digest(); }  // of everything written; call once
  void commit() {
    if (scratch_) {
      out_.reset();  // closed, not fsynced; bytes lost on the way would fail the upload's check of this hash
      std::error_code ec;
      fs::rename(partial_, final_, ec);
      if (ec) throw_io_error("cannot rename", partial_, ec.value());
    } else {
      out_->sync_and_close();
      rename_durably(partial_, final_);
    }
    committed_ = true;
  }

 private:
  fs::path final_, partial_;
  std::optional<OutputFile> out_;
  bool scratch_;
  std::optional<Sha256> sha_;
  bool committed_ = false;
};

}  // namespace

SecretKey::SecretKey() {
  keep_secrets_out_of_core_dumps();  // key material is about to be in memory
  init_sodium();
  bytes_ = static_cast<unsigned char*>(sodium_malloc(kSize));
  if (!bytes_) throw Error(ExitCode::kInternal, "cannot allocate guarded memory for a key");
}
SecretKey::~SecretKey() { sodium_free(bytes_); }  // sodium_free wipes before freeing

struct KeyRing::Entry {
  uint8_t kind = kKindSymmetric;
  std::array<unsigned char, kIdBytes> id{};
  SecretKey key;                                  // symmetric key, or the box secret key
  std::array<unsigned char, crypto_box_PUBLICKEYBYTES> public_key{};
  bool has_secret = true;                         // false: a public key only (encrypts, cannot decrypt)
  bool from_passphrase = false;                   // derived from a passphrase: a miss means the wrong passphrase
  std::string source;                             // where it came from, for refusals: "key file '/etc/k'"
  // A format 2 write-only pair's index keys (index_signing.h): the server's signs, the offline file's checks.
  std::shared_ptr<IndexSigningKey> signer;
  std::optional<IndexVerifyKey> verify_key;
};

namespace {
Error server_file_given_to_restore(const fs::path& file) {
  fs::path offline = file;
  if (offline.extension() == ".pub") offline.replace_extension();
  return Error(ExitCode::kUsage, "key file '" + file.string() + "' is the server's file of a write-only key pair (its public key "
                                     "and index signing key): it holds no private key, so it decrypts nothing. Give the private "
                                     "key file kept offline ('" + offline.string() + "', made with it by `facecrowd target keygen "
                                     "--write-only`)");
}

// The two files of a format 2 write-only pair given where neither belongs (a symmetric key file).
Error write_only_file_given_as_key_file(const fs::path& file, const std::string& label) {
  return Error(ExitCode::kUsage, "key file '" + file.string() + "' is the " +
                                     (label == kSigningLabel ? std::string("server's file (public key and index signing key)")
                                                             : std::string("PRIVATE key file")) +
                                     " of a write-only key pair, not a key file: for write-only backups give the server's file "
                                     "with --encryption public-key --public-key; for --encryption key make a key with "
                                     "`facecrowd target keygen FILE`");
}
}  // namespace

void KeyRing::add_key_file(const fs::path& file) {
  // A write-only pair's public half is 64 hex characters too: used as a symmetric key it would encrypt with a
  // key that is meant to be public.
  if (file.extension() == ".pub" && is_key_pair(fs::path(file).replace_extension(), file))
    throw Error(ExitCode::kUsage, "key file '" + file.string() + "' is the public key of a write-only key pair, not a key file: "
                                  "for write-only backups use --encryption public-key --public-key '" + file.string() +
                                  "'; for --encryption key make a key with `facecrowd target keygen FILE`");
  auto e = std::make_shared<Entry>();
  const std::string label = read_hex_key(file, e->key.data(), true);
  if (!label.empty()) throw write_only_file_given_as_key_file(file, label);
  e->id = key_id_of(e->key.data(), SecretKey::kSize);
  e->source = "key file '" + file.string() + "'";
  entries_.push_back(e);
  if (!encrypting_) encrypting_ = e;
}

void KeyRing::add_passphrase(const std::string& passphrase, const std::array<unsigned char, 16>& salt) {
  init_sodium();
  if (passphrase.size() < 12)
    throw Error(ExitCode::kUsage, "the backup passphrase ($FACECROWD_BACKUP_PASSPHRASE) is shorter than 12 characters");
  auto e = std::make_shared<Entry>();
  if (crypto_pwhash(e->key.data(), SecretKey::kSize, passphrase.data(), passphrase.size(), salt.data(),
                    crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw Error(ExitCode::kIo, "deriving the backup key from the passphrase ran out of memory (argon2id needs 256 MiB)");
  e->id = key_id_of(e->key.data(), SecretKey::kSize);
  e->from_passphrase = true;
  e->source = "the passphrase ($FACECROWD_BACKUP_PASSPHRASE)";
  entries_.push_back(e);
  if (!encrypting_) encrypting_ = e;
}

void KeyRing::add_public_key_file(const fs::path& file) {
  // The private half given by mistake: every backup would be sealed to a key no one holds the secret of
  // (unrestorable), and the key meant to stay offline would sit on the server.
  if (is_key_pair(file, with_pub_suffix(file)))
    throw Error(ExitCode::kUsage, "'" + file.string() + "' is the PRIVATE key of a write-only key pair: give its public key '" +
                                  with_pub_suffix(file).string() + "' instead, and keep '" + file.string() +
                                  "' off this machine (restores need it; backups sealed to it could never be restored)");
  auto e = std::make_shared<Entry>();
  e->kind = kKindSealed;
  e->has_secret = false;
  SecretKey seed;
  const std::string label = read_key_file(file, e->public_key.data(), false, seed.data());
  if (label == kVerifyLabel)  // the pair's .pub is not beside it (else is_key_pair said so above)
    throw Error(ExitCode::kUsage, "'" + file.string() + "' is the PRIVATE key file of a write-only key pair (it holds " + kVerifyLabel +
                                  "): give the server's file, its .pub, instead, and keep '" + file.string() + "' off this machine");
  if (label == kSigningLabel) {
    // A secret now: whoever reads it can sign an index, so the file is held as a key file is.
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0) refuse_if_others_can_read(file, st);
    e->signer = std::make_shared<IndexSigningKey>(seed.data());
  }
  e->id = key_id_of(e->public_key.data(), e->public_key.size());
  // Named in reports only (keys_given lists the keys that decrypt, which this is not).
  e->source = "public key file '" + file.string() + "'" + (e->signer ? " (this server's index signing key)" : "");
  entries_.push_back(e);
  if (!encrypting_) encrypting_ = e;
}

void KeyRing::add_box_secret_key_file(const fs::path& file) {
  auto e = std::make_shared<Entry>();
  e->kind = kKindSealed;
  IndexVerifyKey verify_key{};
  const std::string label = read_key_file(file, e->key.data(), true, verify_key.data());
  if (label == kSigningLabel) throw server_file_given_to_restore(file);
  if (label == kVerifyLabel) e->verify_key = verify_key;
  crypto_scalarmult_base(e->public_key.data(), e->key.data());
  e->id = key_id_of(e->public_key.data(), e->public_key.size());
  e->source = "key file '" + file.string() + "'";
  entries_.push_back(e);
}

void KeyRing::add_restore_key_file(const fs::path& file) {
  SecretKey key;
  const std::string label = read_hex_key(file, key.data(), false);
  if (label == kSigningLabel) throw server_file_given_to_restore(file);
  if (label.empty()) add_key_file(file);
  add_box_secret_key_file(file);
}

bool KeyRing::can_encrypt() const { return encrypting_ != nullptr; }
std::string KeyRing::encrypting_key_id() const { return encrypting_ ? hex(encrypting_->id.data(), kIdBytes) : ""; }
std::vector<std::string> KeyRing::key_ids() const {
  std::vector<std::string> out;
  for (const auto& e : entries_)
    if (e->has_secret) out.push_back(hex(e->id.data(), kIdBytes));
  return out;
}

std::string KeyRing::keys_given(bool write_only) const {
  const uint8_t kind = write_only ? kKindSealed : kKindSymmetric;
  std::string out;
  for (const auto& e : entries_)
    if (e->has_secret && e->kind == kind) out += (out.empty() ? "" : "; ") + e->source + " is key " + hex(e->id.data(), kIdBytes);
  return out.empty() ? "none" : out;
}

std::string KeyRing::begin_object(SecretKey& data_key) const {
  if (!encrypting_) throw Error(ExitCode::kUsage, "no encryption key is configured");
  crypto_secretstream_xchacha20poly1305_keygen(data_key.data());
  std::string header(kMagic, sizeof kMagic);
  header.push_back(char(encrypting_->kind));
  header.append(reinterpret_cast<const char*>(encrypting_->id.data()), kIdBytes);
  if (encrypting_->kind == kKindSymmetric) {
    unsigned char wrapped[kWrappedSymmetric];
    randombytes_buf(wrapped, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(wrapped + crypto_secretbox_NONCEBYTES, data_key.data(), SecretKey::kSize, wrapped,
                          encrypting_->key.data());
    header.append(reinterpret_cast<const char*>(wrapped), sizeof wrapped);
  } else {
    unsigned char wrapped[kWrappedSealed];
    crypto_box_seal(wrapped, data_key.data(), SecretKey::kSize, encrypting_->public_key.data());
    header.append(reinterpret_cast<const char*>(wrapped), sizeof wrapped);
  }
  return header;
}

std::string KeyRing::encrypt_file(const fs::path& plain, const fs::path& sealed) const {
  // The one encoder (sealed_upload.cpp), written to a file instead of sent.
  auto source = seal_for_upload(plain, "");
  auto reader = source->open();
  PartialOutput out(sealed, /*scratch=*/true);
  std::vector<char> buf(1 << 20);
  for (uint64_t done = 0; done < source->size();) {
    const size_t n = size_t(std::min<uint64_t>(buf.size(), source->size() - done));
    reader->read(buf.data(), n);
    out.write(buf.data(), n);
    done += n;
  }
  out.commit();
  return out.sha256();
}

void KeyRing::decrypt_file(const fs::path& sealed, const fs::path& plain, const std::string& object) const {
  FdReader in(sealed);
  unsigned char fixed[sizeof kMagic + 1 + kIdBytes];
  if (in.read(fixed, sizeof fixed, sealed) != sizeof fixed || std::memcmp(fixed, kMagic, sizeof kMagic) != 0)
    throw Error(ExitCode::kBadInput, "object '" + object + "' is not an encrypted facecrowd object (no FCRYPT01 header)");
  uint8_t kind = fixed[sizeof kMagic];
  std::array<unsigned char, kIdBytes> id{};
  std::memcpy(id.data(), fixed + sizeof kMagic + 1, kIdBytes);
  std::shared_ptr<Entry> key;
  for (const auto& e : entries_)
    if (e->id == id && e->has_secret && e->kind == kind) key = e;
  if (!key) {
    // A passphrase derives a key that cannot be told apart from any other: a miss means the passphrase given
    // is not the one the object was sealed with, which a list of key ids does not say.
    bool passphrase_given = false;
    for (const auto& e : entries_) passphrase_given = passphrase_given || e->from_passphrase;
    if (passphrase_given && kind == kKindSymmetric)
      throw Error(ExitCode::kBadInput, "object '" + object + "' is encrypted with key " + hex(id.data(), kIdBytes) +
                                           ", which the passphrase given ($FACECROWD_BACKUP_PASSPHRASE) does not derive: "
                                           "wrong passphrase, or the target's passphrase was changed since (give the "
                                           "passphrase it was sealed with, or its key file with --key-file); nothing was changed");
    throw Error(ExitCode::kBadInput, "object '" + object + "' is encrypted with key " + hex(id.data(), kIdBytes) +
                                         (kind == kKindSealed ? " (write-only: it needs the private key)" : "") +
                                         ", which is not among the keys given (" + keys_given(kind == kKindSealed) +
                                         "): give the key file of key " + hex(id.data(), kIdBytes) + "; nothing was changed");
  }
  SecretKey data_key;
  if (kind == kKindSymmetric) {
    unsigned char wrapped[kWrappedSymmetric];
    if (in.read(wrapped, sizeof wrapped, sealed) != sizeof wrapped ||
        crypto_secretbox_open_easy(data_key.data(), wrapped + crypto_secretbox_NONCEBYTES,
                                   sizeof wrapped - crypto_secretbox_NONCEBYTES, wrapped, key->key.data()) != 0)
      throw Error(ExitCode::kBadInput, "object '" + object + "': its data key does not open with key " +
                                           hex(id.data(), kIdBytes) + " (wrong key, or a tampered header); nothing was changed");
  } else {
    unsigned char wrapped[kWrappedSealed];
    if (in.read(wrapped, sizeof wrapped, sealed) != sizeof wrapped ||
        crypto_box_seal_open(data_key.data(), wrapped, sizeof wrapped, key->public_key.data(), key->key.data()) != 0)
      throw Error(ExitCode::kBadInput, "object '" + object + "': its sealed data key does not open with private key " +
                                           hex(id.data(), kIdBytes) + " (wrong key, or a tampered header); nothing was changed");
  }
  unsigned char stream_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  crypto_secretstream_xchacha20poly1305_state state;
  if (in.read(stream_header, sizeof stream_header, sealed) != sizeof stream_header ||
      crypto_secretstream_xchacha20poly1305_init_pull(&state, stream_header, data_key.data()) != 0)
    throw Error(ExitCode::kBadInput, "object '" + object + "' is truncated inside its header; nothing was changed");

  PartialOutput out(plain, /*scratch=*/false);
  const size_t cchunk = kChunk + crypto_secretstream_xchacha20poly1305_ABYTES;
  std::vector<unsigned char> cipher(cchunk), buf(kChunk);
  for (int64_t index = 1;; ++index) {
    size_t n = in.read(cipher.data(), cchunk, sealed);
    if (n < crypto_secretstream_xchacha20poly1305_ABYTES)
      throw Error(ExitCode::kBadInput, "object '" + object + "' is truncated: it ends before its final chunk (after " +
                                           std::to_string(index - 1) + " chunks); nothing was changed");
    unsigned long long mlen = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&state, buf.data(), &mlen, &tag, cipher.data(), n, nullptr, 0) != 0)
      throw Error(ExitCode::kBadInput, "object '" + object + "': chunk " + std::to_string(index) +
                                           " fails authentication (tampered, damaged or truncated); nothing was changed");
    out.write(buf.data(), size_t(mlen));
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
      unsigned char extra;
      if (in.read(&extra, 1, sealed) != 0)
        throw Error(ExitCode::kBadInput, "object '" + object + "' has bytes after its final chunk (tampered); nothing was changed");
      break;
    }
  }
  sodium_memzero(buf.data(), buf.size());
  out.commit();
}

namespace {
// The index-authentication subkey of a symmetric key: derived, so a tag reveals nothing usable against the
// data-encryption key and the two uses can never be confused.
void index_subkey(const SecretKey& key, SecretKey& subkey) {
  static_assert(SecretKey::kSize == crypto_kdf_KEYBYTES && SecretKey::kSize == crypto_auth_KEYBYTES);
  crypto_kdf_derive_from_key(subkey.data(), SecretKey::kSize, 1, "fcindex1", key.data());
}

std::string index_mac(const SecretKey& key, const std::string& digest) {
  SecretKey subkey;
  index_subkey(key, subkey);
  unsigned char tag[crypto_auth_BYTES];
  crypto_auth(tag, reinterpret_cast<const unsigned char*>(digest.data()), digest.size(), subkey.data());
  return hex(tag, sizeof tag);
}
}  // namespace

std::optional<KeyRing::IndexTag> KeyRing::index_tag(const std::string& digest) const {
  if (!encrypting_) return std::nullopt;
  const std::string id = hex(encrypting_->id.data(), kIdBytes);
  if (encrypting_->kind == kKindSymmetric) return IndexTag{kIndexMac, id, index_mac(encrypting_->key, digest)};
  if (encrypting_->signer) return IndexTag{kIndexSignature, id, encrypting_->signer->sign(digest)};
  return std::nullopt;
}

KeyRing::TagCheck KeyRing::check_index_tag(const std::string& digest, const IndexTag& tag) const {
  for (const auto& e : entries_) {
    if (hex(e->id.data(), kIdBytes) != tag.key_id) continue;
    if (tag.alg == kIndexMac && e->kind == kKindSymmetric && e->has_secret) {
      const std::string expected = index_mac(e->key, digest);
      // Constant time: the tag is compared as the attacker sent it.
      return expected.size() == tag.tag.size() && sodium_memcmp(expected.data(), tag.tag.data(), expected.size()) == 0
                 ? TagCheck::kValid
                 : TagCheck::kMismatch;
    }
    if (tag.alg == kIndexSignature && e->kind == kKindSealed && (e->verify_key || e->signer)) {
      const IndexVerifyKey& key = e->verify_key ? *e->verify_key : e->signer->verify_key();
      return index_signature_holds(key, digest, tag.tag) ? TagCheck::kValid : TagCheck::kMismatch;
    }
  }
  return TagCheck::kKeyNotGiven;
}

std::string KeyRing::index_key_source(const IndexTag& tag) const {
  for (const auto& e : entries_) {
    if (hex(e->id.data(), kIdBytes) != tag.key_id) continue;
    if ((tag.alg == kIndexMac && e->kind == kKindSymmetric && e->has_secret) ||
        (tag.alg == kIndexSignature && e->kind == kKindSealed && (e->verify_key || e->signer)))
      return e->source;
  }
  return "";
}

bool KeyRing::holds_index_verify_key() const {
  for (const auto& e : entries_)
    if (e->verify_key || e->signer) return true;
  return false;
}

bool KeyRing::holds_symmetric_key() const {
  for (const auto& e : entries_)
    if (e->kind == kKindSymmetric && e->has_secret) return true;
  return false;
}

ObjectWrap object_wrap(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char fixed[sizeof kMagic + 1];
  if (!in.read(reinterpret_cast<char*>(fixed), sizeof fixed) || std::memcmp(fixed, kMagic, sizeof kMagic) != 0) return ObjectWrap::kNone;
  return fixed[sizeof kMagic] == kKindSealed ? ObjectWrap::kPublicKey : ObjectWrap::kSymmetric;
}

bool is_encrypted_object(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[sizeof kMagic] = {};
  return in.read(magic, sizeof magic) && std::memcmp(magic, kMagic, sizeof kMagic) == 0;
}

std::string object_key_id(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char fixed[sizeof kMagic + 1 + kIdBytes];
  if (!in.read(reinterpret_cast<char*>(fixed), sizeof fixed) || std::memcmp(fixed, kMagic, sizeof kMagic) != 0) return "";
  return hex(fixed + sizeof kMagic + 1, kIdBytes);
}

void generate_key_file(const fs::path& file) {
  SecretKey key;
  randombytes_buf(key.data(), SecretKey::kSize);
  std::string text = hex(key.data(), SecretKey::kSize) + "\n";
  write_private_file(file, text, 0600);
  sodium_memzero(text.data(), text.size());
}

void generate_key_pair(const fs::path& file) {
  fs::path pub = file;
  pub += ".pub";
  std::error_code ec;
  if (fs::exists(pub, ec)) throw Error(ExitCode::kConflict, "'" + pub.string() + "' exists; a key file is never overwritten");
  SecretKey secret, signing_seed;
  unsigned char public_key[crypto_box_PUBLICKEYBYTES];
  crypto_box_keypair(public_key, secret.data());
  randombytes_buf(signing_seed.data(), SecretKey::kSize);
  const IndexSigningKey signer(signing_seed.data());
  // Format 2 (object_crypto.h): each file one labelled key more; the server's holds the signing secret, so
  // it is 0600 too.
  std::string text = hex(secret.data(), SecretKey::kSize) + "\n" + kVerifyLabel + " " +
                     hex(signer.verify_key().data(), signer.verify_key().size()) + "\n";
  write_private_file(file, text, 0600);
  sodium_memzero(text.data(), text.size());
  text = hex(public_key, sizeof public_key) + "\n" + kSigningLabel + " " + hex(signing_seed.data(), SecretKey::kSize) + "\n";
  try {
    write_private_file(pub, text, 0600);
  } catch (...) {
    sodium_memzero(text.data(), text.size());
    ::unlink(file.c_str());  // half a pair is no pair: `keygen` can be run again
    throw;
  }
  sodium_memzero(text.data(), text.size());
}

}  // namespace facecrowd
