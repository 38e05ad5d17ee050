// containerd's filter language ("labels.foo==bar,digest~=^sha256:"), parsed
// once and matched many times. Grammar, quoting, semantics and error texts
// follow containerd 1.6's `filters` package (docs/content-store-semantics.md,
// section 7).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace casfs {

// Looks a field up on the object being matched. `fieldpath` is the parsed
// path, e.g. {"labels", "containerd.io/gc.root"} or {"digest"}. Returns the
// value when the field is present, nullopt when it is absent.
using FieldAdaptor =
    std::function<std::optional<std::string>(const std::vector<std::string>& fieldpath)>;

// A parsed filter: a disjunction (the separate strings) of conjunctions
// (the ','-separated selectors of one string). Immutable and thread-safe
// once built.
class Filter {
 public:
  // Parses every string. No strings, or any empty string among them, gives a
  // filter that matches everything. A syntax error in any string is
  // kInvalidArgument with containerd's message form:
  //   filters: parse error: [<before> >|<char>|< <after>]: <reason>
  static Result<Filter> Parse(const std::vector<std::string>& filters);
  static Result<Filter> Parse(std::string_view filter) {
    return Parse(std::vector<std::string>{std::string(filter)});
  }

  // A filter that matches everything.
  Filter();

  bool MatchesEverything() const;
  bool Match(const FieldAdaptor& adaptor) const;

  struct Selector;  // implementation detail, defined in filters.cc
 private:
  // Shared: copies of a Filter share the compiled selectors (regexes).
  std::shared_ptr<const std::vector<std::vector<Selector>>> alternatives_;
  bool match_all_ = true;
};

}  // namespace casfs
