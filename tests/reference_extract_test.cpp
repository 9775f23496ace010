// `catdog extract` against PyTorch (shared/reference, README.md there): the frozen bases' outputs
// for the 6 reference photos, through the real binary, within the agreement the fixtures ask for:
// max |ours - ref| / max |ref| <= 1e-4 in float32, on the CPU and (when there is one) the GPU. The
// GPU's reduced precisions are measured against the same files and held to looser bounds.
#include <algorithm>
#include <iostream>
#include <limits>

#include "kernels/cpu/cpu_features.h"
#include "tests/support/cli.h"
#include "tests/support/test_support.h"
#include "tests/support/vgg16_reference.h"
#include "weights/npy.h"

namespace catdog {
namespace {

bool cpu_has_avx512_bf16() { return cpu::cpu_features().avx512_bf16; }

const char* const kImages[] = {"cat_a.jpg", "cat_b.jpg", "cat_c.jpg",
                               "dog_a.jpg", "dog_b.jpg", "dog_c.jpg"};

// Runs `catdog extract ARGS... --output OUT.npy --device D --precision P IMAGES...`; returns OUT.npy.
Tensor extract(const std::vector<std::string>& args, const std::string& work,
               const std::string& device = "cpu", const std::string& precision = "fp32") {
  std::vector<std::string> all = {"extract"};
  all.insert(all.end(), args.begin(), args.end());
  const std::string output = work + "/out.npy";
  for (const std::string& a : {std::string("--output"), output, std::string("--device"), device,
                               std::string("--precision"), precision}) {
    all.push_back(a);
  }
  for (const char* image : kImages) {
    all.push_back(test::shared_path("reference/images") + "/" + image);
  }
  const test::CliResult r = test::run_catdog(all, work);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return read_npy(output);
}

// Returns max |ours - ref| / max |ref| (infinity when the shapes differ).
double expect_matches_reference(const Tensor& ours, const std::string& reference_npy,
                                double bound = 1e-4, const std::string& how = "cpu fp32") {
  const Tensor ref = read_npy(reference_npy);
  EXPECT_EQ(ours.shape(), ref.shape());
  if (ours.shape() != ref.shape()) return std::numeric_limits<double>::infinity();
  const double err = test::max_relative_error(ours.to_vector(), ref.to_vector());
  EXPECT_LE(err, bound) << how;
  std::cout << reference_npy << " (" << how << "): max |ours - ref| / max |ref| = " << err << "\n";
  return err;
}

TEST(ReferenceExtract, Vgg16Seed1Block5PoolFeatures) {
  CATDOG_REQUIRE_SHARED(reference, "reference/vgg16_seed1_features.npy");
  const std::string work = test::temp_dir("reference_extract_vgg16");
  CATDOG_MAKE_VGG16_H5(weights, work, 1, false);
  expect_matches_reference(extract({"--model", "vgg16", "--weights", weights}, work), reference);
}

TEST(ReferenceExtract, TinyDarknetLeakyRelu15Features) {
  CATDOG_REQUIRE_SHARED(reference, "reference/tiny_darknet_features.npy");
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  const std::string work = test::temp_dir("reference_extract_tiny_darknet");
  expect_matches_reference(extract({"--model", "tiny-darknet", "--weights", weights}, work),
                           reference);
}

// The whole ImageNet classifier from its Keras model_config (conv2d_16 then global average
// pooling): 1000 logits per photo, and the reference's top-1 classes.
TEST(ReferenceExtract, TinyDarknetFullClassifierLogits) {
  CATDOG_REQUIRE_SHARED(reference, "reference/tiny_darknet_logits.npy");
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  CATDOG_REQUIRE_SHARED(config, "weights/tiny_darknet_imagenet.json");
  const std::string work = test::temp_dir("reference_extract_tiny_darknet_logits");
  const Tensor logits = extract(
      {"--model", config, "--preprocess", "scale", "--weights", weights}, work);
  expect_matches_reference(logits, reference);
  const int expected_top1[] = {173, 10, 173, 117, 169, 176};  // reference/tiny_darknet.json
  ASSERT_EQ(logits.numel(), 6 * 1000);
  const float* p = logits.f32();
  for (int i = 0; i < 6; ++i) {
    const float* row = p + i * 1000;
    EXPECT_EQ(std::max_element(row, row + 1000) - row, expected_top1[i]) << kImages[i];
  }
}

// Every CPU convolution algorithm (--conv-algo, layers/cpu_conv_choice.h) within the fixtures'
// 1e-4 on both bases (the default, auto, is also in the tests above; it is here too so that the
// run prints its error beside the others). Each forced algorithm must also differ from im2col, or
// it was never taken.
TEST(ReferenceExtract, EveryCpuConvAlgorithmWithinTheBound) {
  CATDOG_REQUIRE_SHARED(vgg_reference, "reference/vgg16_seed1_features.npy");
  CATDOG_REQUIRE_SHARED(tiny_reference, "reference/tiny_darknet_features.npy");
  CATDOG_REQUIRE_SHARED(tiny_weights, "weights/tiny_darknet_imagenet.h5");
  const std::string work = test::temp_dir("reference_extract_conv_algo");
  CATDOG_MAKE_VGG16_H5(vgg_weights, work, 1, false);
  const std::vector<std::string> vgg = {"--model", "vgg16", "--weights", vgg_weights};
  const std::vector<std::string> tiny = {"--model", "tiny-darknet", "--weights", tiny_weights};
  for (const auto& [args, reference] : {std::make_pair(vgg, vgg_reference),
                                        std::make_pair(tiny, tiny_reference)}) {
    std::vector<float> im2col;
    for (const char* algo : {"im2col", "direct", "winograd2", "winograd4", "auto"}) {
      std::vector<std::string> with = args;
      with.insert(with.end(), {"--conv-algo", algo});
      const Tensor features = extract(with, work);
      expect_matches_reference(features, reference, 1e-4, std::string("cpu fp32 ") + algo);
      if (im2col.empty()) {
        im2col = features.to_vector();
      } else if (std::string(algo) != "auto") {
        EXPECT_NE(features.to_vector(), im2col) << algo << " gave im2col's exact features";
      }
    }
  }
}

// Keras' own VGG16 file stores its names as fixed-length strings; h5py 3 writes variable-length
// ones. Both load to the same features.
TEST(ReferenceExtract, Vgg16VariableLengthNamesGiveTheSameFeatures) {
  CATDOG_REQUIRE_SHARED(reference, "reference/vgg16_seed1_features.npy");
  const std::string work = test::temp_dir("reference_extract_vgg16_vlen");
  CATDOG_MAKE_VGG16_H5(weights, work, 1, true);
  expect_matches_reference(
      extract({"--model", "vgg16", "--weights", weights, "--stop-after", "block5_pool"}, work),
      reference);
}

// --precision bf16 on the CPU (AVX512_BF16: the frozen convolutions in bf16, fp32 accumulation),
// VGG16 and Tiny Darknet: measured against the fixtures with the GPU bf16 bound (7 mantissa bits,
// about 4e-3 per rounding, grown over the layers), and shown to round (not fp32 in disguise).
TEST(ReferenceExtract, CpuBf16FeaturesWithinBf16Bound) {
  CATDOG_REQUIRE_SHARED(vgg_reference, "reference/vgg16_seed1_features.npy");
  CATDOG_REQUIRE_SHARED(td_reference, "reference/tiny_darknet_features.npy");
  CATDOG_REQUIRE_SHARED(td_weights, "weights/tiny_darknet_imagenet.h5");
  if (!cpu_has_avx512_bf16()) GTEST_SKIP() << "this CPU lacks AVX512_BF16";
  const std::string work = test::temp_dir("reference_extract_cpu_bf16");
  CATDOG_MAKE_VGG16_H5(vgg_weights, work, 1, false);
  const std::pair<std::vector<std::string>, std::string> models[] = {
      {{"--model", "vgg16", "--weights", vgg_weights}, vgg_reference},
      {{"--model", "tiny-darknet", "--weights", td_weights}, td_reference}};
  for (const auto& [args, reference] : models) {
    const Tensor bf16 = extract(args, work, "cpu", "bf16");
    const double err = expect_matches_reference(bf16, reference, 1e-1, "cpu bf16");
    EXPECT_GT(err, 1e-4) << reference << ": bf16 is as exact as fp32: computed in fp32?";
  }
}

// The same features on the GPU: float32 within the fixtures' 1e-4; TF32, FP16 and BF16 (the frozen
// base in reduced precision, cuDNN tensor cores) measured, with bounds from their mantissas
// (10, 10 and 7 bits: about 1e-3, 1e-3 and 8e-3 per rounding, grown over 13 layers). A reduced
// precision must also show its rounding: features bit-identical to (or as close as) fp32's would
// mean the reduced path was never taken, as when extract left its layers trainable.
TEST(ReferenceExtractGpu, Vgg16Seed1FeaturesInEveryPrecision) {
  CATDOG_REQUIRE_GPU();
  CATDOG_REQUIRE_SHARED(reference, "reference/vgg16_seed1_features.npy");
  const std::string work = test::temp_dir("reference_extract_vgg16_gpu");
  CATDOG_MAKE_VGG16_H5(weights, work, 1, false);
  const Tensor fp32 = extract({"--model", "vgg16", "--weights", weights}, work, "cuda", "fp32");
  const double fp32_err = expect_matches_reference(fp32, reference, 1e-4, "cuda fp32");
  const std::pair<const char*, double> precisions[] = {
      {"tf32", 2e-2}, {"fp16", 2e-2}, {"bf16", 1e-1}};
  for (const auto& [precision, bound] : precisions) {
    const std::string why_not = precision_unsupported_reason(precision);
    if (!why_not.empty()) {
      std::cout << precision << ": not on this GPU (" << why_not << ")\n";
      continue;
    }
    const Tensor low = extract({"--model", "vgg16", "--weights", weights}, work, "cuda", precision);
    const double err = expect_matches_reference(low, reference, bound, std::string("cuda ") + precision);
    EXPECT_GT(err, 10 * fp32_err) << precision << " is as exact as fp32: computed in fp32?";
    EXPECT_GT(test::max_relative_error(low.to_vector(), fp32.to_vector()), 1e-5)
        << precision << " features equal the fp32 ones";
  }
}

TEST(ReferenceExtractGpu, TinyDarknetFeaturesFp32) {
  CATDOG_REQUIRE_GPU();
  CATDOG_REQUIRE_SHARED(reference, "reference/tiny_darknet_features.npy");
  CATDOG_REQUIRE_SHARED(weights, "weights/tiny_darknet_imagenet.h5");
  const std::string work = test::temp_dir("reference_extract_tiny_darknet_gpu");
  expect_matches_reference(extract({"--model", "tiny-darknet", "--weights", weights}, work, "cuda"),
                           reference, 1e-4, "cuda fp32");
}

}  // namespace
}  // namespace catdog
