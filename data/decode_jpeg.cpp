// JPEG decoding with libjpeg-turbo's TurboJPEG API.
//
// Flags are left at 0 on purpose: that is libjpeg's default decode (accurate integer IDCT, fancy
// upsampling), the pixels PIL gives Keras. CMYK/YCCK photos come out of libjpeg as CMYK and are
// turned into RGB here with PIL's formula, so they too match what Keras would have seen.
#include <turbojpeg.h>
// After turbojpeg.h and cstdio: jpeglib.h needs FILE and size_t declared before it.
#include <csetjmp>
#include <cstdio>
#include <jpeglib.h>

#include <algorithm>
#include <cstring>

#include "data/decoders.h"
#include "data/resize.h"
#include "data/ycc_nearest.h"

namespace catdog::detail {
namespace {

// A TurboJPEG decompressor for one file. Never one kept for the next: libjpeg keeps the
// quantization and Huffman tables a file defines in its decompressor (JPEG's abbreviated streams
// send tables and images apart), so a later file that lacks one would be decoded with the last
// file's instead of being refused, its pixels depending on what the thread decoded before
// (fuzz_decode's finding, DecodeNearest.EveryFileIsDecodedWithItsOwnTablesOnly). Making one costs
// about 0.25 us (0.17 us for the libjpeg one below), 0.1% of decoding a 500x375 photo.
struct Decompressor {
  tjhandle handle = tjInitDecompress();
  Decompressor() {
    if (!handle) fail("TurboJPEG: tjInitDecompress failed: ", tjGetErrorStr2(nullptr));
  }
  ~Decompressor() { tjDestroy(handle); }
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
};

// Whether the markers before the scan include an Adobe APP14 segment. Photoshop's CMYK JPEGs
// carry one and store the inks inverted (255 = no ink); libjpeg hands them over as stored.
bool has_adobe_marker(const uint8_t* bytes, size_t size) {
  size_t i = 2;  // after SOI
  while (i + 4 <= size) {
    if (bytes[i] != 0xFF) return false;
    const uint8_t marker = bytes[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return false;  // start of scan / end of image
    const size_t length = (static_cast<size_t>(bytes[i + 2]) << 8) | bytes[i + 3];
    if (marker == 0xEE && length >= 7 && i + 9 <= size && std::memcmp(bytes + i + 4, "Adobe", 5) == 0) {
      return true;
    }
    i += 2 + length;
  }
  return false;
}

// PIL's CMYK -> RGB (Convert.c cmyk2rgb): R = (255 - K) - round(C * (255 - K) / 255), the same
// for G from M and B from Y. `inverted` undoes Adobe's storage first.
void cmyk_to_rgb(const uint8_t* cmyk, int64_t pixels, bool inverted, uint8_t* rgb) {
  auto muldiv255 = [](int a, int b) {
    const int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (int64_t p = 0; p < pixels; ++p) {
    const uint8_t* s = cmyk + 4 * p;
    const int k = inverted ? 255 - s[3] : s[3];
    const int nk = 255 - k;
    for (int c = 0; c < 3; ++c) {
      const int ink = inverted ? 255 - s[c] : s[c];
      rgb[3 * p + c] = static_cast<uint8_t>(nk - muldiv255(ink, nk));
    }
  }
}

// The largest reduction TurboJPEG offers that keeps the image at least target size.
tjscalingfactor pick_scaling(int width, int height, const DecodeOptions& opts) {
  tjscalingfactor best{1, 1};
  if (!opts.dct_scaling || opts.target_width <= 0 || opts.target_height <= 0) return best;
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  for (int i = 0; factors && i < count; ++i) {
    const tjscalingfactor f = factors[i];
    if (f.num > f.denom) continue;  // never enlarge
    const int w = TJSCALED(width, f), h = TJSCALED(height, f);
    if (w >= opts.target_width && h >= opts.target_height && w < TJSCALED(width, best)) best = f;
  }
  return best;
}

void decode_jpeg_with(tjhandle tj, const uint8_t* bytes, size_t size, const std::string& name,
                      const DecodeOptions& opts, Image& out) {
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  // Only the header is read here: the size check below happens before any pixel memory exists.
  if (tjDecompressHeader3(tj, bytes, static_cast<unsigned long>(size), &width, &height,
                          &subsampling, &colorspace) != 0) {
    throw DecodeError(name, std::string("not a readable JPEG: ") + tjGetErrorStr2(tj));
  }
  check_pixel_limit(width, height, name, opts);

  const tjscalingfactor scale = pick_scaling(width, height, opts);
  const int out_w = TJSCALED(width, scale), out_h = TJSCALED(height, scale);
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int64_t pixels = static_cast<int64_t>(out_w) * out_h;
  std::vector<uint8_t> cmyk_pixels;
  if (cmyk) cmyk_pixels.resize(static_cast<size_t>(pixels) * 4);
  out.width = out_w;
  out.height = out_h;
  out.rgb.resize(static_cast<size_t>(pixels) * 3);

  // TJFLAG_LIMITSCANS: refuse progressive files with absurd scan counts (a known way to make a
  // small file take minutes to decode).
  const int flags = TJFLAG_LIMITSCANS;
  uint8_t* target = cmyk ? cmyk_pixels.data() : out.rgb.data();
  if (tjDecompress2(tj, bytes, static_cast<unsigned long>(size), target, out_w, 0, out_h,
                    cmyk ? TJPF_CMYK : TJPF_RGB, flags) != 0) {
    const std::string why = tjGetErrorStr2(tj);
    // A warning still leaves pixels. Most warnings (extraneous bytes, a bad Huffman code) are
    // accepted as PIL accepts them; running out of data is not: PIL refuses a truncated file,
    // and the missing rows would be grey.
    const bool warning_only = tjGetErrorCode(tj) == TJERR_WARNING;
    if (why.find("Premature end") != std::string::npos) {
      throw DecodeError(name, "truncated (" + why + ")");
    }
    if (!warning_only) throw DecodeError(name, "JPEG decode failed: " + why);
  }
  if (cmyk) cmyk_to_rgb(cmyk_pixels.data(), pixels, has_adobe_marker(bytes, size), out.rgb.data());
}

// The libjpeg decompressor behind decode_jpeg_nearest, made anew for every file as above, and
// the buffers it fills, kept per thread. Any error or warning jumps back to the setjmp in
// read_nearest: the caller then decodes the file again
// through TurboJPEG, whose messages and rules (what a warning means, the scan limit) stay the
// only ones. The vectors are kept here, outside the frames a longjmp crosses.
// Rows asked of libjpeg per call: one iMCU row of a 4:2:0 photo (2 x 8), so a call hands over
// all the rows it has decoded. A row at a time made decode + resize a third slower; 16 rows of a
// 1023-pixel-wide photo are 48 KB, well inside L2 for the copies.
constexpr int kBandRows = 16;
struct ThreadJpegReader {
  jpeg_decompress_struct cinfo{};
  struct Errors {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
  } errors{};
  bool made = false;
  std::vector<uint8_t> row;  // kBandRows rows of (width + 1) x 3: the 4-byte copies' spare byte
  JSAMPROW rows[kBandRows];  // into `row`
  std::vector<int> sx, sy;   // nearest_sources of the columns and rows
  // The raw path (read_raw_nearest): two iMCU rows of each of libjpeg's planes, taking turns,
  // and their row pointers.
  std::vector<uint8_t> plane[3];
  std::vector<JSAMPROW> plane_rows[3];
  YccColumns columns;

  ~ThreadJpegReader() {
    if (made) jpeg_destroy_decompress(&cinfo);
  }
};
thread_local ThreadJpegReader thread_jpeg_reader;

[[noreturn]] void jump_on_error(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<ThreadJpegReader::Errors*>(cinfo->err)->jump, 1);
}
void jump_on_warning(j_common_ptr cinfo, int level) {
  if (level < 0) jump_on_error(cinfo);  // level >= 0 is trace output, off by default
}
void no_output(j_common_ptr) {}

// A new libjpeg decompressor in r for the next file; the last file's tables go with the old one
// (Decompressor says why). Called under read_nearest's setjmp: an error jumps there.
void renew_decompressor(ThreadJpegReader& r) {
  if (r.made) jpeg_destroy_decompress(&r.cinfo);
  r.made = false;
  r.cinfo.err = jpeg_std_error(&r.errors.mgr);
  r.errors.mgr.error_exit = jump_on_error;
  r.errors.mgr.emit_message = jump_on_warning;
  r.errors.mgr.output_message = no_output;
  jpeg_create_decompress(&r.cinfo);
  r.made = true;
}

// The layout read_raw_nearest upsamples and converts as libjpeg's defaults would, or false
// where it leaves the file to libjpeg's own steps (grey, 4:4:4, 4:4:0, 4:1:1, RGB or YCCK
// JPEGs, and chroma two samples wide, which libjpeg upsamples by repetition).
bool raw_layout(const jpeg_decompress_struct& c, ChromaLayout& layout) {
  if (c.num_components != 3 || c.jpeg_color_space != JCS_YCbCr) return false;
  const jpeg_component_info* k = c.comp_info;
  for (int ci = 1; ci < 3; ++ci) {
    if (k[ci].h_samp_factor != 1 || k[ci].v_samp_factor != 1) return false;
  }
  if (k[0].h_samp_factor != 2 || k[0].v_samp_factor > 2 || k[1].downsampled_width <= 2) return false;
  layout = k[0].v_samp_factor == 2 ? ChromaLayout::h2v2 : ChromaLayout::h2v1;
  return true;
}

// read_nearest's faster half, for 4:2:0 and 4:2:2 photos where data/ycc_nearest.h's vector form
// applies: libjpeg stops after the IDCT (raw_data_out), and ycc_nearest_row upsamples and
// converts only the pixels the nearest resize keeps. An output row is made as soon as the rows
// it needs are decoded, while they are still in cache; under h2v2 that includes the chroma row
// below it, so an output row waits at most for the next iMCU row, and two iMCU rows of each plane
// are all that is kept. r.columns is ready for this picture. False when libjpeg hands over no
// rows.
bool read_raw_nearest(ThreadJpegReader& r, ChromaLayout layout, int out_w, int out_h, uint8_t* out) {
  j_decompress_ptr cinfo = &r.cinfo;
  cinfo->raw_data_out = TRUE;
  jpeg_start_decompress(cinfo);
  const int lines = cinfo->max_v_samp_factor * DCTSIZE;  // luma rows a call
  int band[3];  // rows of each plane an iMCU row
  for (int ci = 0; ci < 3; ++ci) {
    const jpeg_component_info& k = cinfo->comp_info[ci];
    const size_t stride = static_cast<size_t>(k.width_in_blocks) * DCTSIZE;
    band[ci] = k.v_samp_factor * DCTSIZE;
    r.plane[ci].resize(stride * 2 * band[ci] + kYccSlack);  // the vector windows read past a row
    r.plane_rows[ci].resize(2 * band[ci]);
    for (int i = 0; i < 2 * band[ci]; ++i) r.plane_rows[ci][i] = r.plane[ci].data() + i * stride;
  }
  auto row = [&](int ci, int i) { return r.plane_rows[ci][i % (2 * band[ci])]; };
  const int in_h = static_cast<int>(cinfo->output_height);
  const int chroma_h = static_cast<int>(cinfo->comp_info[1].downsampled_height);
  const int vfactor = layout == ChromaLayout::h2v2 ? 2 : 1;
  r.sy = nearest_sources(in_h, out_h);
  const size_t out_stride = static_cast<size_t>(out_w) * 3;
  int y_out = 0;
  while (cinfo->output_scanline < cinfo->output_height) {
    const int y0 = static_cast<int>(cinfo->output_scanline);
    JSAMPARRAY bands[3];
    for (int ci = 0; ci < 3; ++ci) {
      bands[ci] = r.plane_rows[ci].data() + y0 / lines % 2 * band[ci];
    }
    const int got = static_cast<int>(jpeg_read_raw_data(cinfo, bands, static_cast<JDIMENSION>(lines)));
    if (got <= 0) {
      jpeg_abort_decompress(cinfo);
      return false;
    }
    const int luma_done = std::min(y0 + got, in_h);
    const int chroma_done = (y0 + got) / vfactor;  // rows of each chroma plane decoded
    for (; y_out < out_h; ++y_out) {
      const int sy = r.sy[y_out];
      const int near = sy / vfactor;
      // jdsample.c h2v2: an even row leans on the chroma row above, an odd one on the row below.
      const int far = vfactor == 1 ? near
                      : (sy & 1)   ? std::min(near + 1, chroma_h - 1)
                                   : std::max(near - 1, 0);
      if (sy >= luma_done || std::max(near, far) >= chroma_done) break;
      const YccRows rows{row(0, sy), row(1, near), row(1, far), row(2, near), row(2, far)};
      ycc_nearest_row(rows, r.columns, out_w, out + y_out * out_stride);
    }
  }
  jpeg_finish_decompress(cinfo);  // reads to EOI: a file cut after the last row still warns
  return y_out == out_h;
}

// What read_nearest did: `out` written; the file left to decode_jpeg; or stopped before
// reading pixels, because only the raw path is known to take nothing TurboJPEG's header check
// refuses (decode_jpeg_nearest).
enum class Nearest : uint8_t { decoded, refused, check_header };

// Only plain values live in this frame: longjmp skips destructors.
Nearest read_nearest(ThreadJpegReader& r, const uint8_t* bytes, size_t size, const DecodeOptions& opts,
                     int out_w, int out_h, bool header_checked, uint8_t* out) {
  j_decompress_ptr cinfo = &r.cinfo;
  if (setjmp(r.errors.jump)) {
    if (r.made) jpeg_abort_decompress(cinfo);
    return Nearest::refused;
  }
  renew_decompressor(r);
  jpeg_mem_src(cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  const int64_t pixels = static_cast<int64_t>(cinfo->image_width) * cinfo->image_height;
  // Progressive files (the scan limit), CMYK (the ink conversion) and oversized ones (the
  // message) are TurboJPEG's.
  if (cinfo->progressive_mode || cinfo->jpeg_color_space == JCS_CMYK ||
      cinfo->jpeg_color_space == JCS_YCCK || pixels <= 0 || pixels > opts.max_pixels) {
    jpeg_abort_decompress(cinfo);
    return Nearest::refused;
  }
  // What tjDecompress2 sets with flags 0 and TJPF_RGB: the accurate integer IDCT, fancy
  // upsampling, and the scale pick_scaling chose.
  const tjscalingfactor scale = pick_scaling(static_cast<int>(cinfo->image_width),
                                             static_cast<int>(cinfo->image_height), opts);
  cinfo->out_color_space = JCS_EXT_RGB;
  cinfo->dct_method = JDCT_ISLOW;
  cinfo->do_fancy_upsampling = TRUE;
  cinfo->scale_num = static_cast<unsigned>(scale.num);
  cinfo->scale_denom = static_cast<unsigned>(scale.denom);
  cinfo->raw_data_out = FALSE;
  ChromaLayout layout{};
  if (scale.num == scale.denom && ycc_vector_rows() && raw_layout(*cinfo, layout)) {
    r.sx = nearest_sources(static_cast<int>(cinfo->image_width), out_w);
    ycc_columns(layout, r.sx, static_cast<int>(cinfo->comp_info[1].downsampled_width), true, r.columns);
    if (r.columns.blocks > 0) {
      return read_raw_nearest(r, layout, out_w, out_h, out) ? Nearest::decoded : Nearest::refused;
    }
  }
  if (!header_checked) {
    jpeg_abort_decompress(cinfo);
    return Nearest::check_header;
  }
  jpeg_start_decompress(cinfo);
  const int in_w = static_cast<int>(cinfo->output_width);
  const int in_h = static_cast<int>(cinfo->output_height);
  const size_t in_stride = (static_cast<size_t>(in_w) + 1) * 3;
  r.row.resize(in_stride * kBandRows);
  for (int i = 0; i < kBandRows; ++i) r.rows[i] = r.row.data() + i * in_stride;
  r.sx = nearest_sources(in_w, out_w);
  r.sy = nearest_sources(in_h, out_h);
  const size_t out_stride = static_cast<size_t>(out_w) * 3;
  int y_out = 0;
  while (cinfo->output_scanline < cinfo->output_height) {
    const int y0 = static_cast<int>(cinfo->output_scanline);
    const int got = static_cast<int>(jpeg_read_scanlines(cinfo, r.rows, kBandRows));
    for (; y_out < out_h && r.sy[y_out] < y0 + got; ++y_out) {
      nearest_row(r.rows[r.sy[y_out] - y0], in_w, r.sx.data(), out_w, out + y_out * out_stride);
    }
  }
  jpeg_finish_decompress(cinfo);  // reads to EOI: a file cut after the last row still warns
  return Nearest::decoded;
}

}  // namespace

bool decode_jpeg_nearest(const uint8_t* bytes, size_t size, const DecodeOptions& opts, int out_w,
                         int out_h, uint8_t* out) {
  // What TurboJPEG's header check refuses (e.g. sampling factors it cannot name, which libjpeg
  // itself decodes) goes to decode_jpeg, so that both paths refuse the same files with the same
  // message (found by fuzz_decode). The raw path takes only 4:2:0 and 4:2:2 YCbCr, which
  // TurboJPEG names, so the check (a second parse of the header) is made only for the others.
  const Nearest first = read_nearest(thread_jpeg_reader, bytes, size, opts, out_w, out_h, false, out);
  if (first != Nearest::check_header) return first == Nearest::decoded;
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(Decompressor().handle, bytes, static_cast<unsigned long>(size), &width,
                          &height, &subsampling, &colorspace) != 0) {
    return false;
  }
  return read_nearest(thread_jpeg_reader, bytes, size, opts, out_w, out_h, true, out) ==
         Nearest::decoded;
}

void decode_jpeg(const uint8_t* bytes, size_t size, const std::string& name,
                 const DecodeOptions& opts, Image& out) {
  decode_jpeg_with(Decompressor().handle, bytes, size, name, opts, out);
}

}  // namespace catdog::detail
