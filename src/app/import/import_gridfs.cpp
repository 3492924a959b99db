// Section 1 of the import: GridFS files (fs.files + fs.chunks) assembled, checked and stored
// (app/import/import_run.h, app/import/gridfs_source.h).
#include <map>
#include <string>

#include "app/import/import_run.h"
#include "core/error.h"
#include "core/object_id.h"
#include "core/sha256.h"
#include "store/file_store.h"

namespace facecrowd {
namespace {

// Which kind each referenced file is (what points to it decides).
std::map<std::string, FileKind> referenced_file_kinds(const ImportRun& run) {
  std::map<std::string, FileKind> referenced_kind;
  auto collect_refs = [&](const std::string& as, const std::string& target, FileKind kind) {
    for (const auto& [c, m] : run.first(as)) {
      if (!m->field(target)) continue;
      StagedBsonReader reader(c->staged);
      const uint8_t* doc;
      size_t size;
      while (reader.next(&doc, &size)) {
        MappedDocument d(doc, size, *m);
        if (auto it = d.field(target))
          if (auto ids = import_object_ids(*it))
            for (const auto& id : *ids) referenced_kind.emplace(id, kind);
      }
    }
  };
  collect_refs("faceprofiles", "images", FileKind::kFacialImage);
  collect_refs("attendances", "photo", FileKind::kGroupPhoto);
  collect_refs("crowdcounts", "image", FileKind::kCrowdImage);
  return referenced_kind;
}

}  // namespace

// 1. GridFS.
void import_gridfs(ImportRun& run) {
  const std::map<std::string, FileKind> referenced_kind = referenced_file_kinds(run);
  auto files_m = run.first("fs.files");
  auto chunks_m = run.first("fs.chunks");
  const DumpCollection* files_c = files_m.empty() ? nullptr : files_m.front().first;
  const DumpCollection* chunks_c = chunks_m.empty() ? nullptr : chunks_m.front().first;
  const GridFsSource& gridfs = run.gridfs.emplace(files_c, chunks_c);
  if (files_c) {
    run.say("importing " + std::to_string(gridfs.files().size()) + " GridFS files");
    auto& r = run.report_for(files_c, files_m.front().second);
    ImportCollectionReport* chunks_r = chunks_c ? &run.report_for(chunks_c, chunks_m.front().second) : nullptr;
    std::map<std::string, std::string> by_sha;
    FileKind default_kind = FileKind::kFacialImage;
    try {
      default_kind = parse_file_kind(files_m.front().second->kind);
    } catch (const Error& e) {
      throw Error(ExitCode::kBadInput, run.mapping.label + ": fs.files \"kind\": " + e.what());
    }
    for (const auto& f : gridfs.files()) {
      AssembledFile a = gridfs.assemble(f);
      if (!a.refused.empty()) {
        refuse(r, f.id, a.refused);
        if (chunks_r)
          for (int64_t i = 0; i < gridfs.chunks_of(f.id); ++i) refuse(*chunks_r, f.id, "chunk of a refused file");
        continue;
      }
      if (a.md5_checked) run.report.files_md5_checked++;
      std::string sha = sha256_hex(a.bytes);
      FileKind kind = default_kind;
      if (auto k = referenced_kind.find(f.id); k != referenced_kind.end()) kind = k->second;
      else if (f.metadata_kind) try {
          kind = parse_file_kind(*f.metadata_kind);
        } catch (const Error&) {
        }
      std::string stored = f.id;
      if (auto same = by_sha.find(sha); same != by_sha.end()) {
        stored = same->second;
        run.report.files_deduplicated++;
        r.notes.push_back("file " + f.id + " has the same bytes as " + stored + ": stored once, references point to " + stored);
      } else if (run.writer.active()) {
        NewFile nf;
        nf.filename = f.filename.empty() ? f.id : f.filename;
        nf.content_type = f.content_type.empty() ? "application/octet-stream" : f.content_type;
        nf.kind = kind;
        nf.upload_date = f.upload_date;
        if (is_object_id(f.id)) nf.id = f.id;
        stored = put_file(run.writer.tx(), a.bytes, nf);
        run.writer.done_one();
      } else if (!is_object_id(f.id)) {
        stored = new_object_id();
      }
      by_sha.emplace(sha, stored);
      run.file_ids[f.id] = stored;
      run.stored_to_old.emplace(stored, f.id);
      r.imported++;
      run.report.files_imported++;
      if (chunks_r) chunks_r->imported += gridfs.chunks_of(f.id);
    }
    if (chunks_r) {
      for (int64_t i = 0; i < gridfs.orphan_chunks(); ++i) refuse(*chunks_r, "", "belongs to no document of fs.files");
      for (int64_t i = 0; i < gridfs.malformed_chunks(); ++i) refuse(*chunks_r, "", "not a GridFS chunk {files_id, n, data}");
    }
    run.writer.commit();
  } else if (chunks_c) {
    auto& r = run.report_for(chunks_c, chunks_m.front().second);
    for (int64_t i = 0; i < chunks_c->documents; ++i) refuse(r, "", "fs.chunks without fs.files: the files cannot be rebuilt");
  }
}

}  // namespace facecrowd
