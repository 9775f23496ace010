// Decoding: formats found by their bytes, grayscale and CMYK to RGB, the pixel limit checked
// from the header before allocating, DCT scaling, the shared oddities, and bad files made here.
#include <sys/resource.h>

#include <png.h>
#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/decode.h"
#include "data/encode_jpeg.h"
#include "data/resize.h"
#include "core/random.h"
#include "data/ycc_nearest.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

// A smooth RGB test picture: (h, w, 3).
std::vector<uint8_t> gradient(int w, int h) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(255 * x / w);
      p[1] = static_cast<uint8_t>(255 * y / h);
      p[2] = 128;
    }
  }
  return rgb;
}

std::vector<uint8_t> small_jpeg(int w = 64, int h = 48) {
  const std::vector<uint8_t> rgb = gradient(w, h);
  return encode_jpeg(rgb.data(), w, h, JpegInput::rgb, 90);
}

std::string write_file(const std::string& dir, const std::string& name,
                       const std::vector<uint8_t>& bytes) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The reason decode_image_memory gives for `bytes`, or "" when it decodes.
std::string decode_failure(const std::vector<uint8_t>& bytes, const DecodeOptions& opts = {}) {
  try {
    decode_image_memory(bytes.data(), bytes.size(), "test.jpg", opts);
  } catch (const DecodeError& e) {
    EXPECT_EQ(std::string(e.what()), "test.jpg: " + e.reason());
    return e.reason();
  }
  return "";
}

// Offset of the first marker `code` (0xFF code) in a JPEG, or npos.
size_t find_marker(const std::vector<uint8_t>& jpeg, uint8_t code) {
  for (size_t i = 2; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == code) return i;
  }
  return std::string::npos;
}

int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int worst = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

std::vector<uint8_t> png_bytes(const std::vector<uint8_t>& pixels, int w, int h, bool alpha) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = w;
  png.height = h;
  png.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_to_memory(&png, nullptr, &size, 0, pixels.data(), 0, nullptr));
  std::vector<uint8_t> bytes(size);
  EXPECT_TRUE(png_image_write_to_memory(&png, bytes.data(), &size, 0, pixels.data(), 0, nullptr));
  bytes.resize(size);
  return bytes;
}

TEST(Decode, SniffsFormatsByBytes) {
  const std::vector<uint8_t> jpeg = small_jpeg();
  EXPECT_EQ(sniff_image_format(jpeg.data(), jpeg.size()), ImageFormat::jpeg);
  const std::vector<uint8_t> png = png_bytes(gradient(4, 4), 4, 4, false);
  EXPECT_EQ(sniff_image_format(png.data(), png.size()), ImageFormat::png);
  const std::string gif("GIF89a\x01\x00\x01\x00", 10);
  EXPECT_EQ(sniff_image_format(reinterpret_cast<const uint8_t*>(gif.data()), gif.size()),
            ImageFormat::gif);
  const std::string webp("RIFF\x10\x00\x00\x00WEBPVP8 ", 16);
  EXPECT_EQ(sniff_image_format(reinterpret_cast<const uint8_t*>(webp.data()), webp.size()),
            ImageFormat::webp);
  EXPECT_EQ(sniff_image_format(jpeg.data(), 2), ImageFormat::unknown);
}

TEST(Decode, JpegRoundTripIsClose) {
  const std::vector<uint8_t> rgb = gradient(64, 48);
  const std::vector<uint8_t> jpeg = encode_jpeg(rgb.data(), 64, 48, JpegInput::rgb, 95);
  const Image image = decode_image_memory(jpeg.data(), jpeg.size(), "x");
  ASSERT_EQ(image.width, 64);
  ASSERT_EQ(image.height, 48);
  EXPECT_LE(max_abs_diff(image.rgb, rgb), 12);  // lossy, but a smooth picture survives well
}

TEST(Decode, GrayscaleBecomesRgb) {
  std::vector<uint8_t> gray(32 * 24);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i % 32 * 8);
  const std::vector<uint8_t> jpeg = encode_jpeg(gray.data(), 32, 24, JpegInput::gray, 95);
  const Image image = decode_image_memory(jpeg.data(), jpeg.size(), "gray.jpg");
  ASSERT_EQ(image.rgb.size(), gray.size() * 3);
  int worst = 0;
  for (size_t p = 0; p < gray.size(); ++p) {
    EXPECT_EQ(image.rgb[3 * p], image.rgb[3 * p + 1]);
    EXPECT_EQ(image.rgb[3 * p], image.rgb[3 * p + 2]);
    worst = std::max(worst, std::abs(image.rgb[3 * p] - gray[p]));
  }
  EXPECT_LE(worst, 12);
}

TEST(Decode, AdobeCmykBecomesRgbAsPilDoes) {
  // Flat colour blocks survive JPEG almost exactly. Stored values are Adobe's inverted inks:
  // stored = 255 - ink. PIL: R = (255 - K) - round(C * (255 - K) / 255).
  const int w = 32, h = 32;
  const uint8_t inks[4][4] = {{0, 0, 0, 0}, {255, 0, 0, 0}, {0, 128, 255, 0}, {40, 80, 120, 100}};
  std::vector<uint8_t> stored(static_cast<size_t>(w) * h * 4);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const uint8_t* ink = inks[(y / 16) * 2 + x / 16];
      for (int c = 0; c < 4; ++c) stored[(y * w + x) * 4 + c] = static_cast<uint8_t>(255 - ink[c]);
    }
  }
  const std::vector<uint8_t> jpeg = encode_jpeg(stored.data(), w, h, JpegInput::cmyk, 100);
  const Image image = decode_image_memory(jpeg.data(), jpeg.size(), "cmyk.jpg");
  ASSERT_EQ(image.width, w);
  for (int block = 0; block < 4; ++block) {
    const int x = (block % 2) * 16 + 8, y = (block / 2) * 16 + 8;  // block centres
    const uint8_t* ink = inks[block];
    const double nk = 255 - ink[3];
    for (int c = 0; c < 3; ++c) {
      const double expected = nk - ink[c] * nk / 255.0;
      EXPECT_NEAR(image.rgb[(y * w + x) * 3 + c], expected, 4) << "block " << block << " c " << c;
    }
  }
}

TEST(Decode, PngNamedJpgDecodesAsPng) {
  const std::string dir = test::temp_dir("data_decode_png");
  const std::vector<uint8_t> rgb = gradient(20, 10);
  const Image image = decode_image_file(write_file(dir, "photo.jpg", png_bytes(rgb, 20, 10, false)));
  ASSERT_EQ(image.width, 20);
  ASSERT_EQ(image.height, 10);
  EXPECT_EQ(image.rgb, rgb);  // PNG is lossless

  std::vector<uint8_t> rgba(20 * 10 * 4);
  for (size_t p = 0; p < 200; ++p) {
    std::memcpy(&rgba[4 * p], &rgb[3 * p], 3);
    rgba[4 * p + 3] = static_cast<uint8_t>(p);  // alpha is dropped, as PIL's convert("RGB")
  }
  EXPECT_EQ(decode_image_file(write_file(dir, "alpha.jpg", png_bytes(rgba, 20, 10, true))).rgb, rgb);
}

TEST(Decode, GifNamedJpgIsRefusedAsGif) {
  const std::string gif("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04", 22);
  EXPECT_EQ(decode_failure({gif.begin(), gif.end()}), "unsupported format: GIF");
}

TEST(Decode, BadBytesAreRefusedWithAReason) {
  EXPECT_EQ(decode_failure({}), "empty file");
  const std::string text = "hello, this is not an image\n";
  EXPECT_NE(decode_failure({text.begin(), text.end()}).find("unsupported format"), std::string::npos);
  std::vector<uint8_t> noise(4096);
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<uint8_t>(splitmix64(3, 0, i));
  noise[0] = 0x00;
  EXPECT_NE(decode_failure(noise).find("unsupported format"), std::string::npos);
  // Random bytes behind a JPEG signature reach libjpeg, which must refuse them too.
  noise[0] = 0xFF, noise[1] = 0xD8, noise[2] = 0xFF;
  EXPECT_NE(decode_failure(noise), "");
  // A good JPEG right after, on the same thread: a failed decode must not poison the decoder.
  EXPECT_EQ(decode_failure(small_jpeg()), "");
}

TEST(Decode, TruncatedJpegIsRefused) {
  std::vector<uint8_t> jpeg = small_jpeg(256, 192);
  jpeg.resize(jpeg.size() / 2);
  EXPECT_NE(decode_failure(jpeg).find("truncated"), std::string::npos) << decode_failure(jpeg);
}

TEST(Decode, HeaderOnlyJpegIsRefused) {
  std::vector<uint8_t> jpeg = small_jpeg();
  const size_t sos = find_marker(jpeg, 0xDA);
  ASSERT_NE(sos, std::string::npos);
  jpeg.resize(sos);  // everything up to the scan: tables and frame header, no data
  EXPECT_NE(decode_failure(jpeg), "");
  jpeg.resize(2);  // SOI alone
  EXPECT_NE(decode_failure(jpeg), "");
}

long max_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(Decode, HugeDeclaredSizeIsRefusedBeforeAllocating) {
  std::vector<uint8_t> jpeg = small_jpeg();
  const size_t sof = find_marker(jpeg, 0xC0);
  ASSERT_NE(sof, std::string::npos);
  // SOF0: FF C0, length (2), precision (1), height (2), width (2). 60000 = 0xEA60.
  jpeg[sof + 5] = 0xEA, jpeg[sof + 6] = 0x60, jpeg[sof + 7] = 0xEA, jpeg[sof + 8] = 0x60;
  const long rss_before = max_rss_kb();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(decode_failure(jpeg), "image is 60000x60000 = 3.6 GP, over the 100 MP limit");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Decoding it would need 10.8 GB of pixels; refusing costs nothing.
  EXPECT_LT(seconds, 0.5);
  EXPECT_LT(max_rss_kb() - rss_before, 100 * 1024);
}

TEST(Decode, PixelLimitIsSettable) {
  const std::vector<uint8_t> jpeg = small_jpeg(64, 48);
  DecodeOptions opts;
  opts.max_pixels = 64 * 48 - 1;
  EXPECT_EQ(decode_failure(jpeg, opts), "image is 64x48 = 3072 pixels, over the 3071 pixels limit");
  opts.max_pixels = 64 * 48;
  EXPECT_EQ(decode_failure(jpeg, opts), "");
}

TEST(Decode, DctScalingPicksTheSmallestSizeAtLeastTheTarget) {
  const std::vector<uint8_t> jpeg = small_jpeg(800, 600);
  DecodeOptions opts;
  opts.target_width = opts.target_height = 224;
  EXPECT_EQ(decode_image_memory(jpeg.data(), jpeg.size(), "x", opts).width, 800);  // off: parity
  opts.dct_scaling = true;
  const Image scaled = decode_image_memory(jpeg.data(), jpeg.size(), "x", opts);
  // Scale 3/8 gives 300x225; 1/4 would give 200x150, under 224.
  EXPECT_EQ(scaled.width, 300);
  EXPECT_EQ(scaled.height, 225);
}

TEST(Decode, MissingFileNamesTheFile) {
  try {
    decode_image_file("/nonexistent/cat.1.jpg");
    FAIL() << "no error";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cat.1.jpg"), std::string::npos);
    EXPECT_NE(e.reason().find("cannot open"), std::string::npos);
  }
}

// decode_nearest_into against the two steps it replaces, decode_image_memory + resize_rgb
// (nearest): the same bytes exactly, and nothing written past the (out_h, out_w, 3) output.
void expect_nearest_equals_two_steps(const std::vector<uint8_t>& file, int out_w, int out_h,
                                     const std::string& what, const DecodeOptions& opts = {}) {
  const Image decoded = decode_image_memory(file.data(), file.size(), what, opts);
  std::vector<uint8_t> expected(static_cast<size_t>(out_w) * out_h * 3);
  resize_rgb(decoded, out_w, out_h, ResizeMode::nearest, expected.data());
  constexpr uint8_t kGuard = 0xA5;
  std::vector<uint8_t> got(expected.size() + 16, kGuard);
  Image scratch;
  decode_nearest_into(file.data(), file.size(), what, opts, out_w, out_h, scratch, got.data());
  size_t differing = 0;
  for (size_t i = 0; i < expected.size(); ++i) differing += got[i] != expected[i];
  EXPECT_EQ(differing, 0u) << what << " " << decoded.width << "x" << decoded.height << " -> "
                           << out_w << "x" << out_h;
  for (size_t i = expected.size(); i < got.size(); ++i) {
    ASSERT_EQ(got[i], kGuard) << what << ": written past the output, byte " << i;
  }
}

// A noisy picture (every pixel its own, so a row or column off by one shows) as a JPEG with the
// given chroma subsampling (TJSAMP_*; TJSAMP_GRAY: 1 component), baseline or progressive.
std::vector<uint8_t> noisy_jpeg(int w, int h, int subsampling, bool progressive = false) {
  std::vector<uint8_t> rgb(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(splitmix64(7, w, i) >> 56);
  tjhandle tj = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const int flags = progressive ? TJFLAG_PROGRESSIVE : 0;
  EXPECT_EQ(tjCompress2(tj, rgb.data(), w, 0, h, TJPF_RGB, &jpeg, &size, subsampling, 90, flags), 0)
      << tjGetErrorStr2(tj);
  std::vector<uint8_t> bytes(jpeg, jpeg + size);
  tjFree(jpeg);
  tjDestroy(tj);
  return bytes;
}

// Every size in each way decode_nearest_into can take: 4:2:0 and 4:2:2 through the raw planes
// and data/ycc_nearest.h (32-column vector blocks where the CPU has AVX-512 VBMI, then the plain
// loop for the columns after the last block; 250 = 7 blocks + 26), and the rest through
// libjpeg's rows. Odd sizes put chroma edges and the last half-filled chroma row in play; 1023
// -> 100 is too wide for the vector blocks' windows.
void expect_every_size_equals_two_steps() {
  const int sizes[][4] = {{500, 375, 224, 224}, {375, 500, 224, 224}, {1023, 768, 224, 224},
                          {768, 1023, 224, 224}, {224, 224, 224, 224}, {7, 5, 13, 11},
                          {1, 1, 3, 2},          {33, 250, 224, 224},  {259, 17, 30, 20},
                          {501, 377, 250, 201},  {64, 63, 64, 63},     {1023, 9, 100, 7},
                          {97, 3, 40, 5}};
  for (int sampling : {TJSAMP_444, TJSAMP_422, TJSAMP_420, TJSAMP_440, TJSAMP_GRAY}) {
    for (const auto& s : sizes) {
      expect_nearest_equals_two_steps(noisy_jpeg(s[0], s[1], sampling), s[2], s[3],
                                      "sampling " + std::to_string(sampling));
    }
  }
}

TEST(DecodeNearest, EqualsDecodeThenResizeForEverySubsamplingAndSize) {
  expect_every_size_equals_two_steps();
}

TEST(DecodeNearest, EqualsDecodeThenResizeWithoutAvx512Vbmi) {
  if (!detail::ycc_vector_rows()) {
    GTEST_SKIP() << "this CPU has no AVX-512 VBMI: the test above ran without it";
  }
  detail::set_ycc_vector_rows_off_for_test(true);
  expect_every_size_equals_two_steps();
  detail::set_ycc_vector_rows_off_for_test(false);
}

TEST(DecodeNearest, LeavesProgressiveCmykAndDctScalingAsDecodeHasThem) {
  expect_nearest_equals_two_steps(noisy_jpeg(500, 375, TJSAMP_420, true), 224, 224, "progressive");
  std::vector<uint8_t> cmyk(64 * 48 * 4);
  for (size_t i = 0; i < cmyk.size(); ++i) cmyk[i] = static_cast<uint8_t>(i * 37);
  expect_nearest_equals_two_steps(encode_jpeg(cmyk.data(), 64, 48, JpegInput::cmyk, 90), 224, 224,
                                  "cmyk");
  DecodeOptions dct;
  dct.dct_scaling = true;
  dct.target_width = dct.target_height = 224;
  expect_nearest_equals_two_steps(noisy_jpeg(1023, 768, TJSAMP_420), 224, 224, "dct 1/2", dct);
  expect_nearest_equals_two_steps(noisy_jpeg(500, 375, TJSAMP_444), 224, 224, "dct 5/8", dct);
  const std::vector<uint8_t> png = png_bytes(gradient(31, 17), 31, 17, false);
  expect_nearest_equals_two_steps(png, 224, 224, "png");
}

// The reason decode_nearest_into gives, or "" when it decodes.
std::string nearest_failure(const std::vector<uint8_t>& bytes, const DecodeOptions& opts = {}) {
  std::vector<uint8_t> out(224 * 224 * 3);
  Image scratch;
  try {
    decode_nearest_into(bytes.data(), bytes.size(), "test.jpg", opts, 224, 224, scratch, out.data());
  } catch (const DecodeError& e) {
    return e.reason();
  }
  return "";
}

TEST(DecodeNearest, RefusesWhatDecodeRefusesWithItsReasons) {
  std::vector<uint8_t> truncated = noisy_jpeg(256, 192, TJSAMP_420);
  truncated.resize(truncated.size() / 2);
  std::vector<uint8_t> header_only = small_jpeg();
  header_only.resize(find_marker(header_only, 0xDA));
  std::vector<uint8_t> huge = small_jpeg();
  const size_t sof = find_marker(huge, 0xC0);
  huge[sof + 5] = 0xEA, huge[sof + 6] = 0x60, huge[sof + 7] = 0xEA, huge[sof + 8] = 0x60;
  std::vector<uint8_t> cut_before_eoi = noisy_jpeg(64, 48, TJSAMP_420);
  cut_before_eoi.resize(cut_before_eoi.size() - 2);
  for (const auto& bytes : {truncated, header_only, huge, cut_before_eoi}) {
    const std::string reason = decode_failure(bytes);
    EXPECT_EQ(nearest_failure(bytes), reason);
  }
  EXPECT_NE(decode_failure(truncated).find("truncated"), std::string::npos);
  EXPECT_EQ(nearest_failure(huge), "image is 60000x60000 = 3.6 GP, over the 100 MP limit");
  DecodeOptions small_limit;
  small_limit.max_pixels = 64 * 48 - 1;
  EXPECT_EQ(nearest_failure(small_jpeg(64, 48), small_limit),
            "image is 64x48 = 3072 pixels, over the 3071 pixels limit");
  // After a refusal the thread's decompressor still decodes.
  expect_nearest_equals_two_steps(noisy_jpeg(500, 375, TJSAMP_420), 224, 224, "after errors");
}

// fuzz_decode's finding: luma sampled 2x3 (the chroma 1x1), which libjpeg decodes but TurboJPEG's
// header check cannot name; the one-pass path took it while decode refused it.
TEST(DecodeNearest, RefusesASamplingThatTurboJpegCannotName) {
  std::vector<uint8_t> bytes;
  read_file_bytes(std::string(CATDOG_SOURCE_DIR) + "/fuzz/corpus/fuzz_decode/luma_2x3_sampling.jpg",
                  bytes);
  const std::string reason = decode_failure(bytes);
  EXPECT_NE(reason.find("Could not determine subsampling"), std::string::npos) << reason;
  EXPECT_EQ(nearest_failure(bytes), reason);
  // TurboJPEG's handle is made anew after the failed check: the next file that needs the check
  // (4:4:4 is not the raw path's) decodes.
  expect_nearest_equals_two_steps(noisy_jpeg(500, 375, TJSAMP_444), 224, 224, "after the refusal");
}

// `jpeg` with its first quantization table, table 0, sent as table 2 instead: the components
// that use table 0 then name a table the file never defines.
std::vector<uint8_t> without_quantization_table_0(std::vector<uint8_t> jpeg) {
  const size_t dqt = find_marker(jpeg, 0xDB);
  EXPECT_EQ(jpeg.at(dqt + 4), 0x00) << "the first DQT segment defines table 0, 8-bit";
  jpeg.at(dqt + 4) = 0x02;
  return jpeg;
}

// `jpeg` without its DHT segments: libjpeg-turbo then decodes with the standard Huffman tables
// (as Motion-JPEG frames need), which are the ones tjCompress2 codes a baseline file with.
std::vector<uint8_t> without_huffman_tables(const std::vector<uint8_t>& jpeg) {
  std::vector<uint8_t> out(jpeg.begin(), jpeg.begin() + 2);
  size_t i = 2;
  while (i + 4 <= jpeg.size() && jpeg[i + 1] != 0xDA) {
    const size_t end = i + 2 + ((static_cast<size_t>(jpeg[i + 2]) << 8) | jpeg[i + 3]);
    if (jpeg[i + 1] != 0xC4) out.insert(out.end(), jpeg.begin() + i, jpeg.begin() + end);
    i = end;
  }
  out.insert(out.end(), jpeg.begin() + i, jpeg.end());
  EXPECT_LT(out.size(), jpeg.size()) << "no DHT segment was found";
  return out;
}

// What decode_nearest_into makes of `bytes` at 224x224 (a failure is the test's).
std::vector<uint8_t> nearest_pixels(const std::vector<uint8_t>& bytes) {
  std::vector<uint8_t> out(224 * 224 * 3);
  Image scratch;
  decode_nearest_into(bytes.data(), bytes.size(), "test.jpg", {}, 224, 224, scratch, out.data());
  return out;
}

// fuzz_decode's finding: libjpeg keeps the tables a file defines in its decompressor for the next
// file, so a file lacking one was decoded with the previous photo's, by both functions, and what
// a thread had decoded before decided whether a file was refused, and its pixels.
TEST(DecodeNearest, EveryFileIsDecodedWithItsOwnTablesOnly) {
  for (int sampling : {TJSAMP_420, TJSAMP_444}) {  // the raw planes, and libjpeg's rows
    SCOPED_TRACE("sampling " + std::to_string(sampling));
    const std::vector<uint8_t> photo = noisy_jpeg(64, 48, sampling);
    const std::vector<uint8_t> no_table_0 = without_quantization_table_0(photo);
    EXPECT_NE(decode_failure(no_table_0).find("Quantization table 0x00 was not defined"),
              std::string::npos)
        << decode_failure(no_table_0);
    // Right after the photo, whose tables define table 0, by the same function or the other.
    for (int first = 0; first < 2; ++first) {
      for (int then = 0; then < 2; ++then) {
        EXPECT_EQ(first == 0 ? decode_failure(photo) : nearest_failure(photo), "");
        const std::string reason =
            then == 0 ? decode_failure(no_table_0) : nearest_failure(no_table_0);
        EXPECT_NE(reason.find("Quantization table 0x00 was not defined"), std::string::npos)
            << "decoded by " << (first == 0 ? "decode" : "decode_nearest") << ", then by "
            << (then == 0 ? "decode: " : "decode_nearest: ") << reason;
      }
    }
    // Without Huffman tables: the standard ones, also right after a progressive photo, whose
    // tables (optimised, per scan) are others.
    const std::vector<uint8_t> no_huffman = without_huffman_tables(photo);
    const Image expected = decode_image_memory(photo.data(), photo.size(), "photo.jpg");
    const std::vector<uint8_t> expected_nearest = nearest_pixels(photo);
    const std::vector<uint8_t> progressive = noisy_jpeg(64, 48, sampling, true);
    decode_image_memory(progressive.data(), progressive.size(), "progressive.jpg");
    const Image decoded = decode_image_memory(no_huffman.data(), no_huffman.size(), "test.jpg");
    EXPECT_EQ(max_abs_diff(decoded.rgb, expected.rgb), 0);
    nearest_pixels(progressive);
    EXPECT_EQ(max_abs_diff(nearest_pixels(no_huffman), expected_nearest), 0);
  }
}

TEST(DecodeNearest, SharedPhotosEqualDecodeThenResize) {
  CATDOG_REQUIRE_SHARED(photos, "data/catsdogs");
  CATDOG_REQUIRE_SHARED(odd, "data/oddities");
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(photos)) {
    if (entry.is_regular_file()) paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  ASSERT_GT(paths.size(), 1000u);
  for (const auto& entry : std::filesystem::directory_iterator(odd)) {
    if (entry.path().extension() != ".md") paths.push_back(entry.path().string());
  }
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i % 7 != 0 && paths[i].find("oddities") == std::string::npos) continue;
    read_file_bytes(paths[i], bytes);
    expect_nearest_equals_two_steps(bytes, 224, 224, paths[i]);
  }
}

TEST(Decode, SharedOdditiesAllDecode) {
  CATDOG_REQUIRE_SHARED(dir, "data/oddities");
  struct Expected {
    const char* name;
    int width, height;
  };
  const Expected files[] = {{"Cat1035.png", 800, 450},  {"Cat436.jpg", 300, 225},
                            {"Cat205.jpg", 612, 408},   {"Cat181.jpg", 408, 612},
                            {"Cat5209.jpg", 183, 275},  {"Cat1036.jpg", 1599, 1066},
                            {"Cat1044.jpg", 640, 480},  {"Cat1049.jpeg", 3072, 3072}};
  for (const Expected& e : files) {
    const Image image = decode_image_file(dir + "/" + e.name);
    EXPECT_EQ(image.width, e.width) << e.name;
    EXPECT_EQ(image.height, e.height) << e.name;
    EXPECT_EQ(image.rgb.size(), static_cast<size_t>(e.width) * e.height * 3) << e.name;
  }
}

}  // namespace
}  // namespace catdog
