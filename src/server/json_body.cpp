#include "server/json_body.h"

#include <algorithm>

#include "server/http_error.h"

namespace facecrowd {

int json_nesting_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return deepest;
}

nlohmann::json parse_json_body(std::string_view text, int max_depth) {
  if (int depth = json_nesting_depth(text); depth > max_depth)
    throw HttpError(400, "too_deep", "the JSON body nests " + std::to_string(depth) + " levels deep; the limit is " +
                                         std::to_string(max_depth));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw HttpError(400, "bad_json", "the request body is not valid JSON");
  return j;
}

}  // namespace facecrowd
