// .npy reading and writing: our round trip, files numpy wrote, numpy reading ours, and headers
// that must be refused with a clear error (never a crash or a giant allocation).
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "tests/support/python_script.h"
#include "tests/support/test_support.h"
#include "weights/npy.h"

namespace catdog {
namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A version-1 .npy built by hand (not by encode_npy), so the reader is tested on its own.
std::string hand_made_npy(const std::string& header_dict, const std::string& data, int major = 1) {
  std::string header = header_dict;
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  uint32_t len = static_cast<uint32_t>(header.size());
  for (size_t b = 0; b < prefix - 8; ++b) out += static_cast<char>((len >> (8 * b)) & 0xff);
  return out + header + data;
}

std::string float_bytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * 4);
}

void expect_error_mentioning(const std::string& path, const std::string& fragment) {
  try {
    read_npy(path);
    ADD_FAILURE() << "reading " << path << " should have failed with '" << fragment << "'";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  }
}

TEST(Npy, HandMadeFileIsRead) {
  std::string dir = test::temp_dir("npy_hand_made");
  std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f};
  write_bytes(dir + "/a.npy",
              hand_made_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                            float_bytes(values)));
  Tensor t = read_npy(dir + "/a.npy");
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.dtype(), DType::f32);
  EXPECT_EQ(t.to_vector(), values);

  // Version 2 (4-byte header length), other key order, double quotes, uint8.
  write_bytes(dir + "/b.npy", hand_made_npy("{\"shape\": (4,), \"fortran_order\": False, "
                                            "\"descr\": \"|u1\"}",
                                            std::string("\x00\x7f\x80\xff", 4), 2));
  Tensor u = read_npy(dir + "/b.npy");
  ASSERT_EQ(u.dtype(), DType::u8);
  ASSERT_EQ(u.shape(), (Shape{4}));
  EXPECT_EQ(u.u8()[0], 0);
  EXPECT_EQ(u.u8()[1], 127);
  EXPECT_EQ(u.u8()[2], 128);
  EXPECT_EQ(u.u8()[3], 255);
}

TEST(Npy, RoundTripKeepsShapeTypeAndValues) {
  std::string dir = test::temp_dir("npy_round_trip");
  Tensor f = test::random_tensor({3, 4, 5, 2}, 11);
  write_npy(dir + "/f.npy", f);
  Tensor back = read_npy(dir + "/f.npy");
  EXPECT_EQ(back.shape(), f.shape());
  EXPECT_EQ(back.to_vector(), f.to_vector());
  EXPECT_EQ(read_bytes(dir + "/f.npy").size() % 64, (3 * 4 * 5 * 2 * 4) % 64)
      << "the data must start at a multiple of 64 bytes";

  Tensor u({2, 3}, DType::u8);
  for (int i = 0; i < 6; ++i) u.u8()[i] = static_cast<uint8_t>(i * 50);
  write_npy(dir + "/u.npy", u);
  Tensor ub = read_npy(dir + "/u.npy");
  ASSERT_EQ(ub.dtype(), DType::u8);
  EXPECT_EQ(std::memcmp(ub.u8(), u.u8(), 6), 0);

  Tensor scalar = Tensor::from_vector({}, {42.0f});
  write_npy(dir + "/s.npy", scalar);
  EXPECT_EQ(read_npy(dir + "/s.npy").shape(), Shape{});
  EXPECT_EQ(read_npy(dir + "/s.npy").to_vector(), std::vector<float>{42.0f});

  Tensor empty = Tensor::zeros({0, 7});
  write_npy(dir + "/e.npy", empty);
  EXPECT_EQ(read_npy(dir + "/e.npy").shape(), (Shape{0, 7}));
}

TEST(Npy, ReadsWhatNumpyWrote) {
  CATDOG_REQUIRE_PYTHON("numpy");
  std::string dir = test::temp_dir("npy_from_numpy");
  CATDOG_RUN_PYTHON(r, R"(
import sys, numpy as np
d = sys.argv[1]
np.save(d + '/f.npy', (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 5.5) / 3)
np.save(d + '/u.npy', (np.arange(10, dtype=np.uint8) * 25).reshape(10, 1))
np.save(d + '/one.npy', np.array([1.25], dtype=np.float32))
with open(d + '/v2.npy', 'wb') as f:
    np.lib.format.write_array(f, np.full((3,), -0.5, np.float32), version=(2, 0))
np.save(d + '/f8.npy', np.zeros(3))
np.save(d + '/fortran.npy', np.asfortranarray(np.ones((2, 3), np.float32)))
np.save(d + '/big_endian.npy', np.ones(3, dtype='>f4'))
)", {dir});
  Tensor f = read_npy(dir + "/f.npy");
  ASSERT_EQ(f.shape(), (Shape{2, 3, 4}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(f.f32()[i], (static_cast<float>(i) - 5.5f) / 3.0f) << i;
  Tensor u = read_npy(dir + "/u.npy");
  ASSERT_EQ(u.shape(), (Shape{10, 1}));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(u.u8()[i], i * 25);
  EXPECT_EQ(read_npy(dir + "/one.npy").to_vector(), std::vector<float>{1.25f});
  EXPECT_EQ(read_npy(dir + "/v2.npy").to_vector(), (std::vector<float>{-0.5f, -0.5f, -0.5f}));
  expect_error_mentioning(dir + "/f8.npy", "'<f8' is not supported");
  expect_error_mentioning(dir + "/fortran.npy", "Fortran");
  expect_error_mentioning(dir + "/big_endian.npy", "big-endian");
}

TEST(Npy, NumpyReadsWhatWeWrote) {
  CATDOG_REQUIRE_PYTHON("numpy");
  std::string dir = test::temp_dir("npy_to_numpy");
  std::vector<float> values(2 * 3 * 5);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.125f - 1.0f;
  write_npy(dir + "/f.npy", Tensor::from_vector({2, 3, 5}, values));
  Tensor u({4}, DType::u8);
  for (int i = 0; i < 4; ++i) u.u8()[i] = static_cast<uint8_t>(250 + i);
  write_npy(dir + "/u.npy", u);
  write_npy(dir + "/s.npy", Tensor::from_vector({}, {3.0f}));
  CATDOG_RUN_PYTHON(r, R"(
import sys, numpy as np
d = sys.argv[1]
f = np.load(d + '/f.npy')
assert f.dtype == np.float32 and f.shape == (2, 3, 5), (f.dtype, f.shape)
assert np.array_equal(f.ravel(), np.arange(30, dtype=np.float32) * 0.125 - 1.0), f
u = np.load(d + '/u.npy')
assert u.dtype == np.uint8 and list(u) == [250, 251, 252, 253], u
s = np.load(d + '/s.npy')
assert s.shape == () and s == 3.0, s
print('ok')
)", {dir});
  EXPECT_NE(r.output.find("ok"), std::string::npos);
}

TEST(Npy, BadFilesGiveClearErrors) {
  std::string dir = test::temp_dir("npy_bad");
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string data = float_bytes({1.0f, 2.0f});
  struct Case { const char* name; std::string bytes; const char* fragment; };
  std::string version9 = hand_made_npy(good, data);
  version9[6] = 9;
  std::string long_header = hand_made_npy(good, data);
  long_header[8] = '\xff';
  long_header[9] = '\x7f';
  std::vector<Case> cases = {
      {"empty.npy", "", "not a .npy file"},
      {"text.npy", "just some text, not numpy at all\n", "not a .npy file"},
      {"version.npy", version9, "unsupported .npy version 9"},
      {"header_len.npy", long_header, "header says"},
      {"truncated.npy", hand_made_npy(good, data.substr(0, 5)), "truncated"},
      {"trailing.npy", hand_made_npy(good, data + "xyz"), "trailing bytes"},
      {"dtype.npy", hand_made_npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", data),
       "'<i8' is not supported"},
      {"syntax.npy", hand_made_npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", data),
       "True or False"},
      {"missing_key.npy", hand_made_npy("{'descr': '<f4', 'shape': (2,), }", data), "needs the keys"},
      {"unknown_key.npy", hand_made_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
                                        "'extra': 1}", data), "unknown key"},
      // A lying header: 2^40 x 2^40 elements over 8 bytes must fail before allocating anything.
      {"absurd.npy", hand_made_npy("{'descr': '<f4', 'fortran_order': False, "
                                   "'shape': (1099511627776, 1099511627776), }", data),
       "needs more than the 8 data bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    write_bytes(dir + "/" + c.name, c.bytes);
    expect_error_mentioning(dir + "/" + c.name, c.fragment);
  }
  expect_error_mentioning(dir + "/does_not_exist.npy", "cannot open");
  expect_error_mentioning(dir, "not a regular file");
}

TEST(Npy, WriteRefusesOtherTypesAndBadPaths) {
  std::string dir = test::temp_dir("npy_write_bad");
  EXPECT_THROW(write_npy(dir + "/h.npy", Tensor({2}, DType::f16)), Error);
  write_bytes(dir + "/a_file", "x");
  // The "directory" is a file: the write must fail with the path in the message.
  try {
    write_npy(dir + "/a_file/x.npy", Tensor::zeros({2}));
    ADD_FAILURE() << "writing under a file should fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/a_file/x.npy"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace catdog
