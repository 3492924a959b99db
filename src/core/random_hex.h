// Random identifiers and salts as lowercase hex: `bytes` bytes from libsodium's CSPRNG, 2 * bytes digits.
// The one place such a name is made (a writer identity, a file name's suffix, a request id prefix, a salt).
#pragma once

#include <cstddef>
#include <string>

namespace facecrowd {

std::string random_hex(size_t bytes);

}  // namespace facecrowd
