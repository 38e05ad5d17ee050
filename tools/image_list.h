// What `casfs import` and `casfs export` print: the images they handled.
#pragma once

#include <string>
#include <vector>

#include "tools/oci.h"

namespace casfs::tools {

struct ListedImage {
  oci::Descriptor descriptor;  // the manifest or index
  std::string name;            // its org.opencontainers.image.ref.name, or empty
};

// One "DIGEST  NAME" line per image (just DIGEST when unnamed), or with
// `json` an array of {digest, media_type, size, name}.
void PrintImages(const std::vector<ListedImage>& images, bool json);

}  // namespace casfs::tools
