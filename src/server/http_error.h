// An error with its HTTP answer: every error the API gives is JSON {"error": code, "detail": text} with
// this status. http_error_from() maps the project's Error codes (core/error.h) to statuses: usage and bad
// input 400, not found 404, conflict 409, busy 503 (with Retry-After), file-system 507 when the disk is
// full else 500, anything else 500.
#pragma once

#include <stdexcept>
#include <string>

#include "core/error.h"

namespace facecrowd {

struct HttpError : std::runtime_error {
  HttpError(int status, std::string code, const std::string& detail, int retry_after = 0)
      : std::runtime_error(detail), status(status), code(std::move(code)), retry_after_seconds(retry_after) {}
  int status;
  std::string code;  // machine-readable: "unauthorized", "forbidden", "not_found", "too_deep", …
  int retry_after_seconds;
};

HttpError http_error_from(const Error& e);

}  // namespace facecrowd
