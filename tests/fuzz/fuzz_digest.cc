// Digest parsing against a plain restatement of go-digest's rules, and the
// hashers against each other across a save/load of the resumable state.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/digest.h"
#include "core/digester.h"
#include "core/sha256_resumable.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using casfs::Algorithm;
using casfs::Digest;

// What Digest::Parse must accept: exactly "<known algorithm>:<lowercase hex
// of its length>". Written independently of the rule-by-rule parser.
bool ShouldAccept(std::string_view text) {
  for (Algorithm algorithm : casfs::kAllAlgorithms) {
    std::string prefix = std::string(casfs::AlgorithmName(algorithm)) + ":";
    if (text.substr(0, prefix.size()) != prefix) continue;
    std::string_view hex = text.substr(prefix.size());
    if (hex.size() != 2 * casfs::AlgorithmSize(algorithm)) return false;
    for (char c : hex) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
  }
  return false;
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

void CheckParse(std::string_view text) {
  casfs::Result<Digest> digest = Digest::Parse(text);
  FUZZ_CHECK(digest.ok() == ShouldAccept(text));
  if (digest.ok()) {
    FUZZ_CHECK(digest->ToString() == text);
    FUZZ_CHECK(Digest::IsValidHex(digest->algorithm(), digest->hex()));
    casfs::Result<Digest> again = Digest::Parse(digest->ToString());
    FUZZ_CHECK(again.ok() && *again == *digest);
    return;
  }
  const casfs::Status& status = digest.status();
  FUZZ_CHECK(status.kind() == casfs::ErrorKind::kInvalidArgument);
  const std::string& m = status.message();
  FUZZ_CHECK(StartsWith(m, "invalid checksum digest format") ||
             StartsWith(m, "invalid checksum digest length") ||
             StartsWith(m, "unsupported digest algorithm"));
}

void CheckHashers(casfs::fuzz::Input& in) {
  std::string data(in.rest());
  size_t cut = data.empty() ? 0 : in.Byte() % (data.size() + 1);

  Digest expected = casfs::DigestOf(Algorithm::kSha256, data.data(), data.size());
  casfs::Digester evp(Algorithm::kSha256);
  evp.Update(data.data(), cut);
  casfs::ResumableSha256 resumable;
  resumable.Update(data.data(), cut);
  FUZZ_CHECK(resumable.Current() == evp.Current());

  std::string snapshot = resumable.Save();
  std::optional<casfs::ResumableSha256> loaded = casfs::ResumableSha256::Load(snapshot);
  FUZZ_CHECK(loaded.has_value());
  FUZZ_CHECK(loaded->length() == cut);
  loaded->Update(data.data() + cut, data.size() - cut);
  evp.Update(data.data() + cut, data.size() - cut);
  FUZZ_CHECK(loaded->Current() == expected);
  FUZZ_CHECK(evp.Current() == expected);

  // Digest::FromBytes output always parses back.
  for (Algorithm algorithm : casfs::kAllAlgorithms) {
    Digest d = casfs::DigestOf(algorithm, data.data(), data.size());
    casfs::Result<Digest> parsed = Digest::Parse(d.ToString());
    FUZZ_CHECK(parsed.ok() && *parsed == d);
  }
}

void CheckSnapshotLoad(std::string_view bytes) {
  // Arbitrary bytes as a snapshot: either rejected, or a state that saves
  // back to the same bytes.
  std::optional<casfs::ResumableSha256> loaded = casfs::ResumableSha256::Load(std::string(bytes));
  if (loaded.has_value()) FUZZ_CHECK(loaded->Save() == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view whole(reinterpret_cast<const char*>(data), size);
  CheckParse(whole);
  CheckSnapshotLoad(whole);
  casfs::fuzz::Input in(data, size);
  CheckHashers(in);
  return 0;
}
