#include "tools/image_list.h"

#include "tools/format.h"

namespace casfs::tools {

void PrintImages(const std::vector<ListedImage>& images, bool json) {
  if (json) {
    auto out = nlohmann::json::array();
    for (const auto& image : images) {
      out.push_back({{"digest", image.descriptor.digest.ToString()},
                     {"media_type", image.descriptor.media_type},
                     {"size", image.descriptor.size},
                     {"name", image.name}});
    }
    PrintJson(out);
    return;
  }
  std::string out;
  for (const auto& image : images) {
    out += image.descriptor.digest.ToString() + (image.name.empty() ? "" : "  " + image.name) + "\n";
  }
  PrintText(out);
}

}  // namespace casfs::tools
