#include "vision/image_header.h"

#include <cctype>

namespace facecrowd::vision {
namespace {

// Bounds-checked big/little-endian readers over the input; every read past the end yields nullopt.
class Bytes {
 public:
  explicit Bytes(std::string_view b) : b_(b) {}
  size_t size() const { return b_.size(); }
  bool has(size_t pos, size_t n) const { return pos <= b_.size() && n <= b_.size() - pos; }
  uint8_t u8(size_t pos) const { return static_cast<uint8_t>(b_[pos]); }
  uint32_t be(size_t pos, int n) const {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | u8(pos + i);
    return v;
  }
  uint32_t le(size_t pos, int n) const {
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | u8(pos + i);
    return v;
  }
  bool starts_with(size_t pos, std::string_view s) const { return has(pos, s.size()) && b_.substr(pos, s.size()) == s; }
  std::string_view view() const { return b_; }

 private:
  std::string_view b_;
};

// Reads tags from the first IFD of a TIFF structure (a TIFF file, or the body of an EXIF segment).
struct TiffTags {
  int64_t width = 0, height = 0;
  int orientation = 1;
};
std::optional<TiffTags> read_tiff_ifd0(const Bytes& t, size_t base) {
  if (!t.has(base, 8)) return std::nullopt;
  bool little;
  if (t.starts_with(base, std::string_view("II*\0", 4))) {
    little = true;
  } else if (t.starts_with(base, std::string_view("MM\0*", 4))) {
    little = false;
  } else {
    return std::nullopt;
  }
  auto rd = [&](size_t pos, int n) { return little ? t.le(pos, n) : t.be(pos, n); };
  size_t ifd = base + rd(base + 4, 4);
  if (!t.has(ifd, 2)) return std::nullopt;
  uint32_t entries = rd(ifd, 2);
  TiffTags tags;
  for (uint32_t i = 0; i < entries; ++i) {
    size_t e = ifd + 2 + size_t(i) * 12;
    if (!t.has(e, 12)) return std::nullopt;
    uint32_t tag = rd(e, 2), type = rd(e + 2, 2);
    uint32_t value = type == 3 ? rd(e + 8, 2) : rd(e + 8, 4);  // SHORT sits left-justified in the field
    if (tag == 256) tags.width = value;
    if (tag == 257) tags.height = value;
    if (tag == 0x0112 && value >= 1 && value <= 8) tags.orientation = int(value);
  }
  return tags;
}

bool is_sof(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

std::optional<ImageHeader> read_jpeg(const Bytes& b) {
  ImageHeader h{ImageFormat::kJpeg};
  bool have_size = false;
  size_t pos = 2;
  // Marker segments up to the first scan.
  while (true) {
    while (b.has(pos, 1) && b.u8(pos) == 0xFF && b.has(pos + 1, 1) && b.u8(pos + 1) == 0xFF) ++pos;  // fill
    if (!b.has(pos, 4) || b.u8(pos) != 0xFF) {  // ran out (or lost sync) before the first scan
      if (!have_size) return std::nullopt;
      h.jpeg_complete = false;
      return h;
    }
    uint8_t marker = b.u8(pos + 1);
    if (marker == 0xD9) return std::nullopt;  // EOI before any scan: no image
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      pos += 2;
      continue;
    }
    size_t len = b.be(pos + 2, 2);
    if (len < 2) return std::nullopt;
    size_t body = pos + 4;
    if (is_sof(marker) && b.has(body, 6)) {
      h.height = b.be(body + 1, 2);
      h.width = b.be(body + 3, 2);
      h.components = b.u8(body + 5);
      have_size = true;
    }
    if (marker == 0xE1 && b.starts_with(body, std::string_view("Exif\0\0", 6))) {
      if (auto tags = read_tiff_ifd0(b, body + 6)) h.orientation = tags->orientation;
    }
    pos += 2 + len;
    if (marker == 0xDA) break;
  }
  if (!have_size) return std::nullopt;
  // Entropy-coded data: FF 00 is a stuffed byte and FF D0..D7 a restart marker; any other marker is a
  // segment between progressive scans (skipped by its length) or EOI.
  h.jpeg_complete = false;
  while (pos + 1 < b.size()) {
    if (b.u8(pos) != 0xFF) {
      ++pos;
      continue;
    }
    uint8_t m = b.u8(pos + 1);
    if (m == 0x00 || m == 0xFF || (m >= 0xD0 && m <= 0xD7)) {
      pos += (m == 0xFF) ? 1 : 2;
      continue;
    }
    if (m == 0xD9) {
      h.jpeg_complete = true;
      break;
    }
    if (!b.has(pos + 2, 2)) break;
    pos += 2 + b.be(pos + 2, 2);
  }
  return h;
}

std::optional<ImageHeader> read_png(const Bytes& b) {
  // 8-byte signature, then the IHDR chunk: length, "IHDR", width, height (big-endian).
  if (!b.has(8, 16) || !b.starts_with(12, "IHDR")) return std::nullopt;
  return ImageHeader{ImageFormat::kPng, b.be(16, 4), b.be(20, 4)};
}

std::optional<ImageHeader> read_bmp(const Bytes& b) {
  if (!b.has(14, 4)) return std::nullopt;
  uint32_t dib = b.le(14, 4);
  if (dib == 12) {
    if (!b.has(18, 4)) return std::nullopt;
    return ImageHeader{ImageFormat::kBmp, b.le(18, 2), b.le(20, 2)};
  }
  if (!b.has(18, 8)) return std::nullopt;
  int64_t w = int32_t(b.le(18, 4)), h = int32_t(b.le(22, 4));
  return ImageHeader{ImageFormat::kBmp, w < 0 ? -w : w, h < 0 ? -h : h};
}

std::optional<ImageHeader> read_webp(const Bytes& b) {
  if (!b.has(12, 4)) return std::nullopt;
  if (b.starts_with(12, "VP8X") && b.has(24, 6)) {
    return ImageHeader{ImageFormat::kWebp, int64_t(b.le(24, 3)) + 1, int64_t(b.le(27, 3)) + 1};
  }
  if (b.starts_with(12, "VP8L") && b.has(20, 5) && b.u8(20) == 0x2F) {
    uint32_t v = b.le(21, 4);
    return ImageHeader{ImageFormat::kWebp, int64_t(v & 0x3FFF) + 1, int64_t((v >> 14) & 0x3FFF) + 1};
  }
  if (b.starts_with(12, "VP8 ") && b.has(20, 10) && b.u8(23) == 0x9D && b.u8(24) == 0x01 && b.u8(25) == 0x2A) {
    return ImageHeader{ImageFormat::kWebp, b.le(26, 2) & 0x3FFF, b.le(28, 2) & 0x3FFF};
  }
  return std::nullopt;
}

std::optional<ImageHeader> read_pnm(const Bytes& b) {
  // "P1".."P6", then width and height as ASCII numbers separated by whitespace or '#' comments.
  size_t pos = 2;
  int64_t dims[2] = {0, 0};
  for (int64_t& d : dims) {
    while (pos < b.size()) {
      char c = char(b.u8(pos));
      if (c == '#') {
        while (pos < b.size() && b.u8(pos) != '\n') ++pos;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos;
      } else {
        break;
      }
    }
    size_t start = pos;
    while (pos < b.size() && std::isdigit(b.u8(pos)) && pos - start < 10) d = d * 10 + (b.u8(pos++) - '0');
    if (pos == start) return std::nullopt;
  }
  return ImageHeader{ImageFormat::kPnm, dims[0], dims[1]};
}

}  // namespace

const char* format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kTiff: return "TIFF";
    case ImageFormat::kPnm: return "PNM";
  }
  return "?";
}

std::optional<ImageHeader> read_image_header(std::string_view bytes) {
  Bytes b(bytes);
  if (b.starts_with(0, "\xFF\xD8\xFF")) return read_jpeg(b);
  if (b.starts_with(0, "\x89PNG\r\n\x1A\n")) return read_png(b);
  if (b.starts_with(0, "BM")) return read_bmp(b);
  if (b.starts_with(0, "RIFF") && b.starts_with(8, "WEBP")) return read_webp(b);
  if (b.starts_with(0, std::string_view("II*\0", 4)) || b.starts_with(0, std::string_view("MM\0*", 4))) {
    auto tags = read_tiff_ifd0(b, 0);
    if (!tags || tags->width == 0 || tags->height == 0) return std::nullopt;
    return ImageHeader{ImageFormat::kTiff, tags->width, tags->height, tags->orientation};
  }
  if (b.has(0, 3) && b.u8(0) == 'P' && b.u8(1) >= '1' && b.u8(1) <= '6' && std::isspace(b.u8(2))) return read_pnm(b);
  return std::nullopt;
}

}  // namespace facecrowd::vision
