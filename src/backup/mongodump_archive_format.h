// The single-file format of `mongodump --archive` (its public specification, mongo-tools' archive format
// 0.1): magic, header document, collection-metadata documents, terminator, then namespace segments (a
// header {db, collection, EOF: false}, documents, terminator) in any interleaving, and for each namespace
// an EOF header {EOF: true, CRC: CRC-64/ECMA of all its documents} and a terminator.
//
// read_mongodump_archive() stages every namespace as a collection of `dump` (one documents.bson per
// collection under `staging`, framed and checked by bson_document_framer.h) and keeps each collection's
// metadata. Error(kBadInput) naming `label` and the byte offset for: no magic, a format version other than
// 0.1, a truncated stream (a namespace without its EOF header), a CRC-64 that does not match, a namespace
// that continues after its EOF header, a document over 16 MiB or one that does not decode.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "backup/mongodump_byte_source.h"
#include "backup/mongodump_reader.h"

namespace facecrowd {

// True when the first four bytes are the archive format's magic number (little-endian 0x8199e26d).
bool starts_with_archive_magic(const unsigned char* p, size_t n);

void read_mongodump_archive(ByteSource& source, const std::string& label, MongoDump& dump, const fs::path& staging);

}  // namespace facecrowd
