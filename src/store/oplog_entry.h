// An oplog entry, as MongoDB writes it: {ts: Timestamp(secs, inc), op, ns: "<db>.<collection>", o}.
//   op 'i': o is the inserted document     op 'u': o is the whole new document (a replacement)
//   op 'd': o is {_id}                      op 'n': o is a note (e.g. a restore), changes nothing
// Replaying entries in ts order onto the state at the position just before the first one reproduces
// the state at every later position.
#pragma once

#include <string>
#include <string_view>

#include "core/oplog_timestamp.h"
#include "store/document.h"

namespace facecrowd {

struct OplogEntry {
  OplogTimestamp ts;
  char op = 'n';
  std::string ns;
  Document o;

  std::string collection() const;  // the part of ns after the first '.'
};

Document encode_oplog_entry(OplogTimestamp ts, char op, std::string_view ns, const bson_t* o);
// Throws Error(kBadInput) naming `what` when a field is missing or of the wrong type.
OplogEntry decode_oplog_entry(const uint8_t* data, size_t size, const std::string& what);

}  // namespace facecrowd
