#include "core/secret.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/process_hardening.h"

namespace facecrowd {

void wipe_string(std::string& s) {
  s.resize(s.capacity());
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

Secret::Secret(std::string&& value) : value_(value) {
  wipe_string(value);
  if (!value_.empty()) keep_secrets_out_of_core_dumps();
}

Secret::~Secret() { wipe_string(value_); }

Secret::Secret(Secret&& other) noexcept : value_(other.value_) { wipe_string(other.value_); }

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe_string(value_);
    value_ = other.value_;
    wipe_string(other.value_);
  }
  return *this;
}

Secret secret_from_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw Error(ExitCode::kUsage, std::string("environment variable ") + name + " is not set");
  std::string value(v);
  // Overwrite the environment's copy too, then drop the variable.
  sodium_memzero(const_cast<char*>(v), value.size());
  ::unsetenv(name);
  return Secret(std::move(value));
}

Secret secret_from_file(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw_io_error("cannot read secret file", file, errno);
  if ((st.st_mode & 0077) != 0)
    throw Error(ExitCode::kBadInput, "secret file '" + file.string() +
                                         "' can be read by other users; fix: chmod 600 '" + file.string() + "'");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_io_error("cannot read secret file", file, errno ? errno : EACCES);
  std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  return Secret(std::move(value));
}

}  // namespace facecrowd
