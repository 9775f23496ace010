// Decoded pixels against independent decodes: the sha256 of the reference images' RGB bytes
// (shared/reference, libjpeg-turbo's default decode), and PIL (what Keras uses) on the oddities
// and on real photos, including the resize to the network's size with NEAREST.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "data/decode.h"
#include "data/resize.h"
#include "tests/support/python_script.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

// SHA-256 (FIPS 180-4), written out here so the check does not depend on the code under test.
std::string sha256_hex(const std::vector<uint8_t>& data) {
  static const uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
      0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
      0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
      0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
      0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
      0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
      0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
      0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::vector<uint8_t> msg = data;
  const uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  msg.push_back(0x80);
  while (msg.size() % 64 != 56) msg.push_back(0);
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (size_t chunk = 0; chunk < msg.size(); chunk += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      const uint8_t* p = &msg[chunk + 4 * i];
      w[i] = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  std::string hex;
  for (uint32_t v : h) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", v);
    hex += part;
  }
  return hex;
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string abc = "abc";
  EXPECT_EQ(sha256_hex({abc.begin(), abc.end()}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex({two_blocks.begin(), two_blocks.end()}),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(ReferenceDecode, PixelsMatchTheReferenceHashes) {
  CATDOG_REQUIRE_SHARED(json_path, "reference/vgg16_seed1_features.json");
  std::ifstream in(json_path);
  const nlohmann::json j = nlohmann::json::parse(in);
  const auto names = j.at("images").get<std::vector<std::string>>();
  const auto hashes = j.at("decoded_rgb_sha256").get<std::vector<std::string>>();
  ASSERT_EQ(names.size(), hashes.size());
  ASSERT_EQ(names.size(), 6u);
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string path = test::shared_path("reference/images/" + names[i]);
    ASSERT_FALSE(path.empty()) << names[i];
    const Image image = decode_image_file(path);
    EXPECT_EQ(image.width, 224) << names[i];
    EXPECT_EQ(image.height, 224) << names[i];
    EXPECT_EQ(sha256_hex(image.rgb), hashes[i]) << names[i];
  }
}

// PIL decodes (and resizes with NEAREST to width x height when width > 0) each file and writes
// the RGB bytes one after the other into `out`.
const char* kPilScript = R"(
import sys
from PIL import Image
out, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(out, "wb") as f:
    for path in sys.argv[4:]:
        im = Image.open(path)
        if im.mode != "RGB":
            im = im.convert("RGB")
        if width and im.size != (width, height):
            im = im.resize((width, height), Image.NEAREST)
        f.write(im.tobytes())
)";

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> parity_files() {
  std::vector<std::string> files;
  for (const char* name : {"Cat436.jpg", "Cat205.jpg", "Cat181.jpg", "Cat5209.jpg", "Cat1036.jpg",
                           "Cat1044.jpg", "Cat1049.jpeg", "Cat1035.png"}) {
    files.push_back(test::shared_path(std::string("data/oddities/") + name));
  }
  for (const char* name : {"test/dogs/dog.4367.jpg", "test/cats/cat.4577.jpg",
                           "train/dogs/dog.630.jpg", "train/dogs/dog.927.jpg",
                           "train/cats/cat.835.jpg", "train/cats/cat.1.jpg", "train/dogs/dog.1.jpg",
                           "test/cats/cat.4300.jpg", "test/dogs/dog.4500.jpg"}) {
    files.push_back(test::shared_path(std::string("data/catsdogs/") + name));
  }
  return files;
}

// Our decode (+ nearest resize) must give PIL's bytes exactly, file by file.
void expect_pil_parity(int width, int height) {
  const std::vector<std::string> files = parity_files();
  for (const std::string& f : files) ASSERT_FALSE(f.empty()) << "a parity file is missing";
  const std::string out = test::temp_dir("reference_decode_pil") + "/pil.rgb";
  std::vector<std::string> args = {out, std::to_string(width), std::to_string(height)};
  args.insert(args.end(), files.begin(), files.end());
  CATDOG_RUN_PYTHON(result, kPilScript, args);
  const std::vector<uint8_t> pil = read_all(out);
  size_t offset = 0;
  for (const std::string& f : files) {
    const Image image = decode_image_file(f);
    std::vector<uint8_t> ours = image.rgb;
    if (width > 0) {
      ours.resize(static_cast<size_t>(width) * height * 3);
      resize_rgb(image, width, height, ResizeMode::nearest, ours.data());
    }
    ASSERT_LE(offset + ours.size(), pil.size()) << f;
    size_t differing = 0;
    for (size_t i = 0; i < ours.size(); ++i) differing += ours[i] != pil[offset + i];
    EXPECT_EQ(differing, 0u) << f << " (" << image.width << "x" << image.height << ")";
    if (width > 0) {  // the pipeline's way: resized row by row as decoded
      std::vector<uint8_t> bytes;
      read_file_bytes(f, bytes);
      Image scratch;
      decode_nearest_into(bytes.data(), bytes.size(), f, DecodeOptions{}, width, height, scratch,
                          ours.data());
      differing = 0;
      for (size_t i = 0; i < ours.size(); ++i) differing += ours[i] != pil[offset + i];
      EXPECT_EQ(differing, 0u) << f << " row by row (" << image.width << "x" << image.height << ")";
    }
    offset += ours.size();
  }
  EXPECT_EQ(offset, pil.size());
}

TEST(ReferenceDecode, DecodeEqualsPil) {
  CATDOG_REQUIRE_SHARED(odd, "data/oddities");
  CATDOG_REQUIRE_SHARED(photos, "data/catsdogs");
  CATDOG_REQUIRE_PYTHON("PIL");
  expect_pil_parity(0, 0);
}

TEST(ReferenceDecode, NearestResizeEqualsPilNearest) {
  CATDOG_REQUIRE_SHARED(odd, "data/oddities");
  CATDOG_REQUIRE_SHARED(photos, "data/catsdogs");
  CATDOG_REQUIRE_PYTHON("PIL");
  expect_pil_parity(224, 224);
  expect_pil_parity(200, 150);  // not square: width and height must not be swapped
}

}  // namespace
}  // namespace catdog
