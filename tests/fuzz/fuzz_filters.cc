// The filter parser on arbitrary text: it never crashes, its errors point
// into the input the way containerd's do, separate strings are an OR, and
// any key and value written with Go escapes parse back to themselves.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/filters.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using Labels = std::map<std::string, std::string>;

struct Object {
  std::string digest;
  Labels labels;

  casfs::FieldAdaptor Adaptor() const {
    return [this](const std::vector<std::string>& path) -> std::optional<std::string> {
      if (path.empty()) return std::nullopt;
      if (path[0] == "digest") return digest;
      if (path[0] != "labels" || labels.empty()) return std::nullopt;
      std::string key;
      for (size_t i = 1; i < path.size(); ++i) {
        if (i > 1) key += '.';
        key += path[i];
      }
      auto it = labels.find(key);
      if (it == labels.end()) return std::nullopt;
      return it->second;
    };
  }
};

// "filters: parse error: [<input>]: ..." or
// "filters: parse error: [<before> >|<byte>|< <after>]: ..." with
// before + byte + after == input.
bool PointsIntoInput(const std::string& message, const std::string& input) {
  const std::string prefix = "filters: parse error: [";
  if (message.compare(0, prefix.size(), prefix) != 0) return false;
  std::string_view rest(message);
  rest.remove_prefix(prefix.size());
  if (rest.substr(0, input.size() + 3) == input + "]: ") return true;
  for (size_t pos = rest.find(" >|"); pos != std::string_view::npos && pos < input.size();
       pos = rest.find(" >|", pos + 1)) {
    std::string expected = input.substr(0, pos) + " >|" + input[pos] + "|< " +
                           input.substr(pos + 1) + "]: ";
    if (rest.substr(0, expected.size()) == expected) return true;
  }
  return false;
}

// Go string syntax for arbitrary bytes.
std::string Quote(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += '"';
  return out;
}

void CheckOne(const std::string& text, const Object& object) {
  casfs::Result<casfs::Filter> filter = casfs::Filter::Parse(text);
  if (!filter.ok()) {
    FUZZ_CHECK(!text.empty());
    FUZZ_CHECK(filter.status().kind() == casfs::ErrorKind::kInvalidArgument);
    FUZZ_CHECK(PointsIntoInput(filter.status().message(), text));
    return;
  }
  bool match = filter->Match(object.Adaptor());
  FUZZ_CHECK(filter->Match(object.Adaptor()) == match);
  casfs::Filter copy = *filter;
  FUZZ_CHECK(copy.Match(object.Adaptor()) == match);
  FUZZ_CHECK(filter->MatchesEverything() == text.empty());
  if (text.empty()) FUZZ_CHECK(match);
}

void CheckAlternatives(const std::vector<std::string>& texts, const Object& object) {
  casfs::Result<casfs::Filter> all = casfs::Filter::Parse(texts);
  bool any_match = texts.empty();
  for (const std::string& text : texts) {
    casfs::Result<casfs::Filter> one = casfs::Filter::Parse(text);
    if (!one.ok()) {
      // The first failing string decides the error.
      FUZZ_CHECK(!all.ok());
      FUZZ_CHECK(all.status().message() == one.status().message());
      return;
    }
    any_match = any_match || one->Match(object.Adaptor());
  }
  FUZZ_CHECK(all.ok());
  FUZZ_CHECK(all->Match(object.Adaptor()) == any_match);
}

void CheckQuotedRoundTrip(const std::string& key, const std::string& value) {
  std::string text = "labels." + Quote(key) + "==" + Quote(value);
  casfs::Result<casfs::Filter> filter = casfs::Filter::Parse(text);
  FUZZ_CHECK(filter.ok());
  FUZZ_CHECK(filter->Match(Object{"", {{key, value}}}.Adaptor()));
  FUZZ_CHECK(!filter->Match(Object{"", {{key, value + "x"}}}.Adaptor()));
  FUZZ_CHECK(!filter->Match(Object{"", {{key + "x", value}}}.Adaptor()));

  casfs::Result<casfs::Filter> differs =
      casfs::Filter::Parse("labels." + Quote(key) + " != " + Quote(value));
  FUZZ_CHECK(differs.ok());
  FUZZ_CHECK(!differs->Match(Object{"", {{key, value}}}.Adaptor()));
  // Absent counts as "".
  FUZZ_CHECK(differs->Match(Object{"", {}}.Adaptor()) == !value.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string whole(reinterpret_cast<const char*>(data), size);
  Object object{"sha256:" + std::string(64, 'a'), {{"foo", "bar"}, {"a.b", ""}}};
  CheckOne(whole, object);

  casfs::fuzz::Input in(data, size);
  std::vector<std::string> texts(in.Byte() % 4);
  for (std::string& text : texts) text = in.String();
  Object fuzzed{in.String(), {}};
  for (int i = in.Byte() % 4; i > 0; --i) {
    std::string key = in.String();
    fuzzed.labels[key] = in.String();
  }
  for (const std::string& text : texts) CheckOne(text, fuzzed);
  CheckAlternatives(texts, fuzzed);
  std::string key = in.String();
  CheckQuotedRoundTrip(key, in.String());
  return 0;
}
