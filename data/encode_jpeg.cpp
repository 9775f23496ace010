#include "data/encode_jpeg.h"

#include <turbojpeg.h>

#include "core/error.h"

namespace catdog {

std::vector<uint8_t> encode_jpeg(const uint8_t* pixels, int width, int height, JpegInput input,
                                 int quality) {
  tjhandle tj = tjInitCompress();
  CATDOG_CHECK(tj, "TurboJPEG: tjInitCompress failed: ", tjGetErrorStr2(nullptr));
  const int format = input == JpegInput::rgb ? TJPF_RGB : input == JpegInput::gray ? TJPF_GRAY : TJPF_CMYK;
  const int subsampling = input == JpegInput::gray ? TJSAMP_GRAY : TJSAMP_420;
  unsigned char* jpeg = nullptr;  // TurboJPEG allocates it; freed with tjFree
  unsigned long size = 0;
  const int rc = tjCompress2(tj, pixels, width, 0, height, format, &jpeg, &size, subsampling,
                             quality, 0);
  const std::string why = rc != 0 ? tjGetErrorStr2(tj) : "";
  std::vector<uint8_t> bytes;
  if (rc == 0) bytes.assign(jpeg, jpeg + size);
  tjFree(jpeg);
  tjDestroy(tj);
  CATDOG_CHECK(rc == 0, "TurboJPEG: cannot encode a ", width, "x", height, " image: ", why);
  return bytes;
}

}  // namespace catdog
