// The smallest CUDA program that proves a GPU runs our code: it prints the device, its compute
// capability and the driver, runs one trivial kernel from this build's fatbinary and checks the
// result. scripts/gpu-check.sh runs it first plain, then under compute-sanitizer (which must pass
// it, and must catch the out-of-bounds write of `cuda_probe --oob`, else the sanitizer is not
// working on that machine and its steps are reported as not run).
//
//   cuda_probe          exit 0 when the kernel ran and wrote the right values
//   cuda_probe --oob    the same kernel writes one element past its buffer (for the sanitizer)
#include <cstdio>
#include <cstring>
#include <vector>

#include <cuda_runtime.h>

namespace {

// out is (n,); writes out[i] = 2 i + 1 for i < n + extra (extra = 1 is the deliberate bug).
__global__ void fill_odd(int* out, int n, int extra) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n + extra) out[i] = 2 * i + 1;
}

int check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return 0;
  std::fprintf(stderr, "cuda_probe: %s: %s\n", what, cudaGetErrorString(err));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    std::printf("usage: cuda_probe [--oob]   (runs one trivial kernel; --oob writes past its buffer)\n");
    return 0;
  }
  const bool oob = argc > 1 && std::strcmp(argv[1], "--oob") == 0;
  int driver = 0, runtime = 0, device = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  if (check(cudaGetDevice(&device), "no usable GPU")) return 2;
  cudaDeviceProp prop{};
  if (check(cudaGetDeviceProperties(&prop, device), "device properties")) return 2;
  std::printf("device %d: %s, compute capability %d.%d, %.1f GiB, driver API %d, runtime %d\n",
              device, prop.name, prop.major, prop.minor,
              static_cast<double>(prop.totalGlobalMem) / (1 << 30), driver, runtime);
  const int n = 1000;
  int* out = nullptr;
  if (check(cudaMalloc(&out, n * sizeof(int)), "cudaMalloc")) return 3;
  fill_odd<<<(n + 256) / 256, 256>>>(out, n, oob ? 1 : 0);
  if (check(cudaGetLastError(), "kernel launch (no kernel image for this GPU?)")) return 3;
  std::vector<int> host(n);
  if (check(cudaMemcpy(host.data(), out, n * sizeof(int), cudaMemcpyDeviceToHost), "copy back"))
    return 3;
  cudaFree(out);
  for (int i = 0; i < n; ++i) {
    if (host[i] != 2 * i + 1) {
      std::fprintf(stderr, "cuda_probe: out[%d] = %d, expected %d\n", i, host[i], 2 * i + 1);
      return 4;
    }
  }
  std::printf("cuda_probe: kernel ok\n");
  return 0;
}
