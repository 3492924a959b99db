#include "backup/offsite/index_entry_json.h"

#include <algorithm>
#include <regex>

#include "backup/catalog.h"
#include "core/display_text.h"
#include "core/error.h"
#include "core/utc_time.h"

namespace facecrowd::index_entries {


nlohmann::json object_json(const RemoteObject& o) {
  nlohmann::json j = {{"key", o.key}, {"size", o.size}, {"sha256", o.sha256}};
  if (!o.key_id.empty()) j["key_id"] = o.key_id;
  if (!o.etag.empty()) j["etag"] = o.etag;
  if (!o.md5.empty()) j["md5"] = o.md5;
  return j;
}

void IndexRefusal::operator()(const std::string& field, const std::string& why) const {
  throw Error(ExitCode::kBadInput, what + " is not a valid facecrowd index: " + field + " " + why +
                                       "; it was damaged or edited, so nothing was downloaded or changed");
}

std::string shown_value(const std::string& value) {
  std::string shown = value.size() > 120 ? value.substr(0, 120) + "..." : value;
  return nlohmann::json(shown).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool is_hex(const std::string& s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

uint64_t unsigned_from(const nlohmann::json& j, const char* name, const std::string& field, const IndexRefusal& refuse) {
  if (!j.contains(name)) refuse(field + "." + name, "is missing");
  const auto& v = j.at(name);
  if (!v.is_number_unsigned()) refuse(field + "." + name, "is " + v.dump() + ", not a whole number of bytes >= 0");
  return v.get<uint64_t>();
}

RemoteObject object_from(const nlohmann::json& j, const std::string& field, const std::string& expected_key,
                         const IndexRefusal& refuse) {
  RemoteObject o{j.at("key").get<std::string>(), unsigned_from(j, "size", field, refuse), j.at("sha256").get<std::string>(),
                 j.value("key_id", std::string()), j.value("etag", std::string()), j.value("md5", std::string())};
  // Where remote_index.h's layout puts it, and nowhere else: the key is a path on a directory target and
  // part of a URL on S3.
  if (o.key != expected_key) refuse(field + ".key", shown_value(o.key) + " is not where the layout puts it (" + expected_key + ")");
  if (!o.sha256.empty() && !is_hex(o.sha256, 64)) refuse(field + ".sha256", shown_value(o.sha256) + " is not 64 hex digits");
  if (!o.md5.empty() && !is_hex(o.md5, 32)) refuse(field + ".md5", shown_value(o.md5) + " is not 32 hex digits");
  if (o.sha256.empty() && o.md5.empty()) refuse(field, "records neither a sha256 nor an MD5, so its download could not be checked");
  if (!o.key_id.empty() && !is_hex(o.key_id, 32)) refuse(field + ".key_id", shown_value(o.key_id) + " is not a key id (32 hex digits)");
  if (o.etag.size() > 200 || std::any_of(o.etag.begin(), o.etag.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    refuse(field + ".etag", shown_value(o.etag) + " is not an ETag");
  return o;
}

OplogTimestamp ts_from(const nlohmann::json& j, const char* name, const std::string& field, const IndexRefusal& refuse) {
  auto ts = parse_oplog_timestamp(j.at(name).get<std::string>());
  if (!ts) refuse(field + "." + name, shown_value(j.at(name).get<std::string>()) + " is not an oplog position (SECS:INC)");
  return *ts;
}

namespace {

nlohmann::json slice_json(const RemoteSlice& x) {
  nlohmann::json s = {{"name", x.name}, {"from", x.from.to_string()}, {"to", x.to.to_string()}, {"plain_bytes", x.plain_bytes},
                      {"object", object_json(x.object)}};
  if (x.record) s["record"] = object_json(*x.record);
  return s;
}

}  // namespace

nlohmann::json slices_json(const std::vector<RemoteSlice>& slices) {
  nlohmann::json s = nlohmann::json::array();
  for (const auto& x : slices) s.push_back(slice_json(x));
  return s;
}

RemoteSlice slice_from(const nlohmann::json& s, const std::string& field, std::set<std::string>& seen, const IndexRefusal& refuse) {
  RemoteSlice r{{}, s.at("name").get<std::string>(), ts_from(s, "from", field, refuse), ts_from(s, "to", field, refuse), 0, std::nullopt};
  // The name becomes a file in the local backup directory, and the chain is read from it there.
  if (!(r.from < r.to) || r.name != slice_file_name(r.from, r.to))
    refuse(field + ".name", shown_value(r.name) + " is not the slice name its range " + r.from.to_string() + " .. " +
                                r.to.to_string() + " gives (" + (r.from < r.to ? slice_file_name(r.from, r.to) : "an empty range") + ")");
  if (!seen.insert(r.name).second) refuse(field + ".name", shown_value(r.name) + " is listed twice");
  r.plain_bytes = s.contains("plain_bytes") ? unsigned_from(s, "plain_bytes", field, refuse) : 0;
  r.object = object_from(s.at("object"), field + ".object", slice_key(r.name), refuse);
  if (s.contains("record")) r.record = object_from(s.at("record"), field + ".record", slice_record_key(r.name), refuse);
  return r;
}

SliceSegment segment_summary_from(const nlohmann::json& g, const std::string& field, std::set<std::string>& hours,
                                  const IndexRefusal& refuse) {
  static const std::regex hour_re(R"(\d{4}-\d{2}-\d{2}T\d{2})");
  SliceSegment x;
  x.hour = g.at("hour").get<std::string>();
  if (!std::regex_match(x.hour, hour_re) || !parse_iso8601(x.hour + ":00") || format_iso8601(*parse_iso8601(x.hour + ":00")).substr(0, 13) != x.hour)
    refuse(field + ".hour", shown_value(x.hour) + " is not a UTC hour (YYYY-MM-DDTHH)");
  if (!hours.insert(x.hour).second) refuse(field + ".hour", shown_value(x.hour) + " is listed twice");
  x.count = unsigned_from(g, "count", field, refuse);
  if (x.count == 0) refuse(field + ".count", "is 0 (a segment holds at least one slice)");
  if (x.count > kMaxSegmentSlices)
    refuse(field + ".count", std::to_string(x.count) + " is more slices than a segment holds (at most " + std::to_string(kMaxSegmentSlices) +
                                 ", one a second for its hour: remote_index.h)");
  x.first_to = ts_from(g, "first_to", field, refuse);
  x.last_to = ts_from(g, "last_to", field, refuse);
  if (slice_hour(x.first_to) != x.hour || slice_hour(x.last_to) != x.hour || x.last_to < x.first_to)
    refuse(field + ".first_to", x.first_to.to_string() + " .. " + x.last_to.to_string() + " is not a range within its hour " + x.hour);
  x.names_sha256 = g.at("names_sha256").get<std::string>();
  if (!is_hex(x.names_sha256, 64)) refuse(field + ".names_sha256", shown_value(x.names_sha256) + " is not 64 hex digits");
  x.object = object_from(g.at("object"), field + ".object", g.at("object").at("key").get<std::string>(), refuse);
  static const std::regex key_tail_re(R"(-[0-9a-f]{16}\.json)");
  const std::string prefix = "oplog-index/" + x.hour;
  if (x.object.key.rfind(prefix, 0) != 0 || !std::regex_match(x.object.key.substr(prefix.size()), key_tail_re))
    refuse(field + ".object.key", shown_value(x.object.key) + " is not where the layout puts its segment (" + prefix + "-<16 hex>.json)");
  // Read whole into memory once downloaded: refused by the size index.json records, before the download.
  if (x.object.size > kMaxSegmentBytes)
    refuse(field + ".object.size", std::to_string(x.object.size) + " bytes is more than a segment of at most " +
                                       std::to_string(kMaxSegmentSlices) + " slices can be (" + std::to_string(kMaxSegmentBytes) +
                                       " bytes: remote_index.h)");
  // Segments are plaintext (like index.json), checked by their sha256.
  if (!x.object.key_id.empty() || x.object.sha256.empty())
    refuse(field + ".object", "is not a plaintext object with a sha256, which is what push writes for a segment");
  // The key names its content (remote_index.h: a changed segment goes up under a new key, never over the old
  // one). A key whose digits are not those of the sha256 recorded for it is not a key push wrote: an index
  // edited to point a segment's entry at another object, or the key and sha256 of two pushes mixed.
  if (x.object.key != slice_segment_key(x.hour, x.object.sha256))
    refuse(field + ".object.key", shown_value(x.object.key) + " does not carry the first 16 hex digits of the sha256 recorded for it (" +
                                      x.object.sha256.substr(0, 16) + "), as every segment key push writes does (" +
                                      slice_segment_key(x.hour, x.object.sha256) + ")");
  return x;
}

IndexWriter writer_from(const nlohmann::json& j, const std::string& field, const IndexRefusal& refuse) {
  if (!j.is_object()) refuse(field, shortened(j.dump(), 80) + " is not an object {id, host, since}");
  auto text = [&](const char* name) {
    if (!j.contains(name)) refuse(field + "." + name, "is missing");
    if (!j.at(name).is_string()) refuse(field + "." + name, "is " + shortened(j.at(name).dump(), 80) + ", not a string");
    return j.at(name).get<std::string>();
  };
  IndexWriter w{text("id"), text("host"), text("since")};
  if (!is_hex(w.id, 32)) refuse(field + ".id", shown_value(w.id) + " is not a writer id (32 hex digits)");
  if (w.host.empty() || w.host.size() > 255 || has_control_character(w.host))
    refuse(field + ".host", shown_value(w.host) + " is not a host name (1 to 255 printable bytes)");
  if (!parse_iso8601(w.since)) refuse(field + ".since", shown_value(w.since) + " is not an ISO 8601 time");
  return w;
}

}  // namespace facecrowd::index_entries
