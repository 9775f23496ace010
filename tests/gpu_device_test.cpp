// The device seam with a GPU: the caching allocator's statistics and cap, copies, and the
// precision refusal. Skips with the reason when no GPU is present.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/device.h"
#include "core/error.h"
#include "tests/support/test_support.h"

namespace catdog {
namespace {

TEST(GpuDevice, AllocatorCachesAndCountsPeak) {
  CATDOG_REQUIRE_GPU();
  set_device_memory_limit(0);
  const DeviceMemoryStats before = device_memory_stats();
  reset_device_memory_peak();
  void* a = device_malloc(3 << 20);
  void* b = device_malloc(1000);
  const DeviceMemoryStats during = device_memory_stats();
  EXPECT_GE(during.in_use, before.in_use + (3u << 20) + 1000);
  EXPECT_GE(during.peak, during.in_use);
  device_free(a);
  const DeviceMemoryStats after_free = device_memory_stats();
  EXPECT_EQ(after_free.in_use + (4u << 20), during.in_use);  // 3 MiB rounds up to 4 MiB (2 MiB steps)
  EXPECT_EQ(after_free.reserved, during.reserved);           // kept in the cache, not returned
  EXPECT_EQ(after_free.peak, during.peak);
  void* again = device_malloc(3 << 20);
  EXPECT_EQ(again, a);  // the cached block comes back
  EXPECT_EQ(device_memory_stats().reserved, during.reserved);
  device_free(again);
  device_free(b);
}

TEST(GpuDevice, CapRefusesWithTheRequestAndTheCapInTheMessage) {
  CATDOG_REQUIRE_GPU();
  set_device_memory_limit(64 << 20);
  try {
    device_malloc(size_t(100) << 20);
    ADD_FAILURE() << "a 100 MiB request under a 64 MiB cap succeeded";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("104857600 bytes"), std::string::npos) << message;
    EXPECT_NE(message.find("cap of 64"), std::string::npos) << message;
  }
  void* small = device_malloc(1 << 20);  // under the cap: fine
  EXPECT_NE(small, nullptr);
  device_free(small);
  set_device_memory_limit(0);
}

TEST(GpuDevice, CopiesRoundTrip) {
  CATDOG_REQUIRE_GPU();
  std::vector<float> host{1, 2, 3, 4, 5}, back(5, -1);
  float* d = static_cast<float*>(device_malloc(5 * sizeof(float)));
  float* e = static_cast<float*>(device_malloc(5 * sizeof(float)));
  copy_host_to_device(d, host.data(), 5 * sizeof(float));
  copy_device_to_device(e, d, 5 * sizeof(float));
  copy_device_to_host(back.data(), e, 5 * sizeof(float));
  EXPECT_EQ(back, host);
  device_fill_f32(e, 5, 7.5f);
  copy_device_to_host(back.data(), e, 5 * sizeof(float));
  EXPECT_EQ(back, std::vector<float>(5, 7.5f));
  device_memset_zero(e, 5 * sizeof(float));
  copy_device_to_host(back.data(), e, 5 * sizeof(float));
  EXPECT_EQ(back, std::vector<float>(5, 0.0f));
  device_free(d);
  device_free(e);
  void* pinned = pinned_malloc(4096);
  EXPECT_NE(pinned, nullptr);
  pinned_free(pinned);
}

TEST(GpuDevice, PrecisionRefusalNamesTheGpu) {
  CATDOG_REQUIRE_GPU();
  EXPECT_EQ(precision_unsupported_reason("fp32"), "");
  EXPECT_EQ(precision_unsupported_reason("fp16"), "");  // sm_75 and sm_90 both have fp16
  EXPECT_NE(precision_unsupported_reason("fp8").find("unknown precision"), std::string::npos);
  const std::string description = cuda_device_description();
  const bool ampere_or_newer = description.find("(sm_7") == std::string::npos &&
                               description.find("(sm_6") == std::string::npos;
  for (const char* p : {"bf16", "tf32"}) {
    const std::string why = precision_unsupported_reason(p);
    if (ampere_or_newer) {
      EXPECT_EQ(why, "") << p << " on " << description;
    } else {
      EXPECT_NE(why.find("8.0 or newer"), std::string::npos) << why;
    }
  }
}

}  // namespace
}  // namespace catdog
