#include "tools/args.h"

namespace casfs::tools {

Result<std::pair<std::string, std::string>> ParseLabelArg(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Status::InvalidArgument("label \"" + std::string(text) + "\" is not KEY=VALUE");
  }
  std::string key(text.substr(0, eq));
  std::string value(text.substr(eq + 1));
  CASFS_RETURN_IF_ERROR(ValidateLabel(key, value));
  return std::make_pair(std::move(key), std::move(value));
}

Result<Labels> ParseLabelArgs(const std::vector<std::string>& texts) {
  Labels labels;
  for (const auto& text : texts) {
    auto label = ParseLabelArg(text);
    if (!label.ok()) return label.status();
    labels[label->first] = label->second;
  }
  return labels;
}

Result<std::vector<Digest>> ParseDigests(const std::vector<std::string>& texts) {
  std::vector<Digest> digests;
  for (const auto& text : texts) {
    auto digest = Digest::Parse(text);
    if (!digest.ok()) return digest.status();
    digests.push_back(*digest);
  }
  return digests;
}

}  // namespace casfs::tools
