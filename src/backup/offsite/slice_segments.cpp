// Slice segments (remote_index.h): which segment a slice belongs to, its key, the digest push compares
// local slices with, and regrouping and checking the slices of an index by segment.
#include "backup/offsite/remote_index.h"

#include <algorithm>

#include "backup/offsite/index_entry_json.h"
#include "core/error.h"
#include "core/sha256.h"

namespace facecrowd {

using namespace index_entries;

std::string slice_hour(OplogTimestamp to) { return format_iso8601(UnixMillis(to.secs) * 1000).substr(0, 13); }

std::string slice_segment_key(const std::string& hour, const std::string& content_sha256) {
  return "oplog-index/" + hour + "-" + content_sha256.substr(0, 16) + ".json";
}

std::string slice_names_digest(std::vector<SliceName> names) {
  std::sort(names.begin(), names.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  Sha256 sha;
  for (const auto& n : names) {
    const std::string line = n.name + (n.has_record ? " record\n" : "\n");
    sha.update(line.data(), line.size());
  }
  return sha.hex_digest();
}

std::map<std::string, std::string> RemoteIndex::rebuild_segments() {
  std::map<std::string, std::vector<const RemoteSlice*>> by_hour;
  for (const auto& s : slices) by_hour[slice_hour(s.to)].push_back(&s);
  std::map<std::string, SliceSegment*> listed;
  for (auto& g : segments) listed[g.hour] = &g;
  std::map<std::string, std::string> contents;
  std::vector<SliceSegment> rebuilt;
  for (const auto& g : segments)
    if (!g.loaded) {
      if (by_hour.count(g.hour)) throw Error(ExitCode::kInternal, "a slice was added to segment " + g.object.key + ", which is not loaded");
      rebuilt.push_back(g);
    }
  for (const auto& [hour, list] : by_hour) {
    if (listed.count(hour) && !listed[hour]->loaded) continue;
    std::vector<RemoteSlice> mine;
    std::vector<SliceName> names;
    for (const auto* s : list) {
      mine.push_back(*s);
      names.push_back({s->name, s->record.has_value()});
    }
    std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) { return a.from < b.from; });
    SliceSegment g;
    g.hour = hour;
    g.count = mine.size();
    g.first_to = g.last_to = mine.front().to;
    for (const auto& s : mine) g.first_to = std::min(g.first_to, s.to), g.last_to = std::max(g.last_to, s.to);
    g.names_sha256 = slice_names_digest(std::move(names));
    const std::string content = nlohmann::json{{"format", "facecrowd-slice-segment"}, {"hour", hour}, {"slices", slices_json(mine)}}.dump(1) + "\n";
    const std::string sha = sha256_hex(content);
    g.object = {slice_segment_key(hour, sha), content.size(), sha, "", "", ""};
    g.loaded = true;
    contents.emplace(g.object.key, content);
    rebuilt.push_back(std::move(g));
  }
  std::sort(rebuilt.begin(), rebuilt.end(), [](const auto& a, const auto& b) { return a.hour < b.hour; });
  // A reader refuses an index beyond these bounds (remote_index.h): refused here, before anything is uploaded,
  // rather than written where no restore would read it.
  if (rebuilt.size() > kMaxSegments)
    throw Error(ExitCode::kConflict, "the target's index would list the oplog slices of " + std::to_string(rebuilt.size()) +
                                         " hours, more than a restore reads (" + std::to_string(kMaxSegments) +
                                         ": ten years); nothing was uploaded. Shorten the point-in-time window (`facecrowd target set "
                                         "TARGET --pitr-days N`), and make a backup: slices older than the newest backup's window go");
  for (const auto& g : rebuilt)
    if (g.count > kMaxSegmentSlices || g.object.size > kMaxSegmentBytes)
      throw Error(ExitCode::kConflict, "the oplog slices shipped in hour " + g.hour + " are " + std::to_string(g.count) +
                                           ", more than a restore reads in one hour (" + std::to_string(kMaxSegmentSlices) +
                                           ", one a second); nothing was uploaded. Ship less often (`facecrowd oplog ship` from cron runs "
                                           "once a minute)");
  segments = std::move(rebuilt);
  return contents;
}

void RemoteIndex::add_segment(SliceSegment& segment, const std::string& content, const std::string& what, std::set<std::string>& seen) {
  const IndexRefusal refuse{what};
  try {
    const auto j = nlohmann::json::parse(content);
    if (j.at("format").get<std::string>() != "facecrowd-slice-segment") throw Error(ExitCode::kBadInput, what + " is not a facecrowd slice segment");
    if (j.at("hour").get<std::string>() != segment.hour)
      refuse("hour", shown_value(j.at("hour").get<std::string>()) + " is not the hour index.json lists it for (" + segment.hour + ")");
    std::vector<RemoteSlice> got;
    std::vector<SliceName> names;
    OplogTimestamp first, last;
    for (size_t i = 0; i < j.at("slices").size(); ++i) {
      const std::string field = "slices[" + std::to_string(i) + "]";
      RemoteSlice r = slice_from(j.at("slices").at(i), field, seen, refuse);
      if (slice_hour(r.to) != segment.hour)
        refuse(field + ".to", r.to.to_string() + " is not in the segment's hour " + segment.hour + " (it is in " + slice_hour(r.to) + ")");
      first = i == 0 ? r.to : std::min(first, r.to);
      last = std::max(last, r.to);
      names.push_back({r.name, r.record.has_value()});
      got.push_back(std::move(r));
    }
    // index.json's summary is what push decides by without downloading the segment: it must be this one's.
    if (got.size() != segment.count || first != segment.first_to || last != segment.last_to ||
        slice_names_digest(std::move(names)) != segment.names_sha256)
      refuse("slices", "are not what index.json's summary of the segment says (" + std::to_string(segment.count) + " slices, `to` " +
                           segment.first_to.to_string() + " .. " + segment.last_to.to_string() + ", names_sha256)");
    for (auto& r : got) slices.push_back(std::move(r));
    segment.loaded = true;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::kBadInput, what + " is malformed: " + e.what());
  }
}

}  // namespace facecrowd
