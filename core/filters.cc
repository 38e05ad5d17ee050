#include "core/filters.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "spdlog/spdlog.h"

// The scanner and parser below reproduce containerd 1.6's filters package
// step by step, including its position bookkeeping: the error texts (and the
// byte they point at) are part of what clients see, and several quirks
// (whitespace before ',' is an error, a bare value may hold control
// characters, a sticky first scanner error wins) only come out right when the
// same state machine runs.

namespace casfs {

enum class Operator : uint8_t { kPresent, kEqual, kNotEqual, kMatches };

struct Filter::Selector {
  std::vector<std::string> fieldpath;
  Operator op = Operator::kPresent;
  std::string value;
  std::unique_ptr<const re2::RE2> regex;  // kMatches only; null when the regex is invalid
};

namespace {

// Scanner results share one number space with code points, as in Go: a
// non-negative value is the rune itself, these are the token kinds.
constexpr int32_t kEof = -1;
constexpr int32_t kQuoted = -2;
constexpr int32_t kValue = -3;
constexpr int32_t kField = -4;
constexpr int32_t kSeparator = -5;
constexpr int32_t kOperatorToken = -6;
constexpr int32_t kIllegal = -7;

constexpr int32_t kRuneError = 0xFFFD;
constexpr int32_t kMaxRune = 0x10FFFF;

struct RuneRange {
  int32_t first;
  int32_t last;
};

constexpr RuneRange kValueRunes[] = {
#include "core/filter_runes.inc"
};

// Go's utf8.DecodeRuneInString: an invalid or truncated sequence is
// (RuneError, 1), the empty string (RuneError, 0).
std::pair<int32_t, size_t> DecodeRune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(0);
  if (b0 < 0x80) return {b0, 1};
  auto continuation = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!continuation(1)) return {kRuneError, 1};
    return {((b0 & 0x1F) << 6) | (byte(1) & 0x3F), 2};
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;  // no surrogates
    if (!continuation(1, lo, hi) || !continuation(2)) return {kRuneError, 1};
    return {((b0 & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F), 3};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (!continuation(1, lo, hi) || !continuation(2) || !continuation(3)) return {kRuneError, 1};
    return {((b0 & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) |
                (byte(3) & 0x3F),
            4};
  }
  return {kRuneError, 1};
}

// Go's utf8.EncodeRune: anything that is not a scalar value becomes U+FFFD.
void AppendRune(std::string* out, int32_t r) {
  if (r < 0 || r > kMaxRune || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  if (r < 0x80) {
    *out += static_cast<char>(r);
  } else if (r < 0x800) {
    *out += static_cast<char>(0xC0 | (r >> 6));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    *out += static_cast<char>(0xE0 | (r >> 12));
    *out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (r >> 18));
    *out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

// Go's unicode.IsSpace.
bool IsSpace(int32_t r) {
  switch (r) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

bool IsFieldRune(int32_t r) {
  return r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9');
}

bool IsOperatorRune(int32_t r) { return r == '=' || r == '!' || r == '~'; }
bool IsQuoteRune(int32_t r) { return r == '/' || r == '|' || r == '"'; }
bool IsSeparatorRune(int32_t r) { return r == ',' || r == '.'; }

// Letter, digit, number, graphic or punctuation, and neither ',' nor space.
bool IsValueRune(int32_t r) {
  if (r < 0) return false;
  if (r < 0x80) return r > ' ' && r < 0x7F && r != ',';
  auto it = std::upper_bound(std::begin(kValueRunes), std::end(kValueRunes), r,
                             [](int32_t v, const RuneRange& range) { return v < range.first; });
  return it != std::begin(kValueRunes) && r <= std::prev(it)->last;
}

int DigitValue(int32_t r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;  // larger than any digit of any base used here
}

struct Scanned {
  size_t pos;
  int32_t token;  // a kind above, or the rune that starts no token
  std::string_view text;
};

class Scanner {
 public:
  explicit Scanner(std::string_view input) : input_(input) {}

  // The next rune, kEof at the end, kIllegal for NUL or bad UTF-8 (which
  // also records the first error).
  int32_t Next() {
    if (pos_ >= input_.size()) return kEof;
    pos_ = ppos_;
    auto [r, width] = DecodeRune(input_.substr(ppos_));
    ppos_ += width;
    if (r == kRuneError) {
      // A well-formed U+FFFD is refused too: Go cannot tell it from an error.
      if (width > 0) {
        Error("rune error");
        return kIllegal;
      }
      return kEof;
    }
    if (r == 0) {
      Error("unexpected null");
      return kIllegal;
    }
    return r;
  }

  int32_t Peek() {
    size_t pos = pos_, ppos = ppos_;
    int32_t r = Next();
    pos_ = pos;
    ppos_ = ppos;
    return r;
  }

  Scanned Scan() {
    int32_t r = Next();
    size_t pos = pos_;
    while (r != kEof && r != kIllegal) {
      if (IsQuoteRune(r)) {
        bool ok = ScanQuoted(r);
        return {pos, ok ? kQuoted : kIllegal, Text(pos)};
      }
      if (IsSeparatorRune(r)) {
        value_ = false;
        return {pos, kSeparator, Text(pos)};
      }
      if (IsOperatorRune(r)) {
        while (IsOperatorRune(Peek())) Next();
        value_ = true;
        return {pos, kOperatorToken, Text(pos)};
      }
      if (IsSpace(r)) {
        r = Next();
        pos = pos_;
        continue;
      }
      // After an operator anything else starts a value, even a rune that
      // could not continue one.
      if (value_) {
        while (IsValueRune(Peek())) Next();
        value_ = false;
        return {pos, kValue, Text(pos)};
      }
      if (IsFieldRune(r)) {
        while (IsFieldRune(Peek())) Next();
        return {pos, kField, Text(pos)};
      }
      break;
    }
    return {pos_, r, {}};
  }

  size_t ppos() const { return ppos_; }
  const std::string& error() const { return error_; }

 private:
  std::string_view Text(size_t pos) const { return input_.substr(pos, ppos_ - pos); }

  void Error(const char* message) {
    if (error_.empty()) error_ = message;
  }

  bool ScanQuoted(int32_t quote) {
    bool illegal = false;
    int32_t r = Next();
    while (r != quote) {
      if (r == '\n' || r < 0) {
        Error("quoted literal not terminated");
        return false;
      }
      if (r == '\\') {
        bool legal = false;
        r = ScanEscape(quote, &legal);
        if (!legal) illegal = true;
      } else {
        r = Next();
      }
    }
    return !illegal;
  }

  // Returns the rune after the escape.
  int32_t ScanEscape(int32_t quote, bool* legal) {
    int32_t r = Next();
    switch (r) {
      case 'a': case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
        *legal = true;
        return Next();
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
        return ScanDigits(r, 8, 3, legal);
      case 'x': return ScanDigits(Next(), 16, 2, legal);
      case 'u': return ScanDigits(Next(), 16, 4, legal);
      case 'U': return ScanDigits(Next(), 16, 8, legal);
      default:
        if (r == quote) {
          *legal = true;
          return Next();
        }
        Error("illegal escape sequence");
        *legal = false;
        return r;
    }
  }

  int32_t ScanDigits(int32_t r, int base, int count, bool* legal) {
    while (count > 0 && DigitValue(r) < base) {
      r = Next();
      --count;
    }
    *legal = count == 0;
    if (!*legal) Error("illegal numeric escape sequence");
    return r;
  }

  std::string_view input_;
  size_t pos_ = 0;   // start of the current rune
  size_t ppos_ = 0;  // end of the current rune
  bool value_ = false;  // the last token was an operator
  std::string error_;
};

// Undoes Go string escapes inside a token delimited by '"', '/' or '|'
// (strconv.Unquote generalised to those delimiters). False on any syntax
// error the scanner let through, e.g. "\400" or "\U00110000".
bool Unquote(std::string_view token, std::string* out) {
  if (token.size() < 2) return false;
  char quote = token.front();
  if (quote != token.back() || !IsQuoteRune(quote)) return false;
  std::string_view s = token.substr(1, token.size() - 2);
  if (s.find('\n') != std::string_view::npos) return false;
  out->clear();
  while (!s.empty()) {
    char c = s[0];
    if (c == quote) return false;
    if (static_cast<unsigned char>(c) >= 0x80) {
      auto [r, width] = DecodeRune(s);
      AppendRune(out, r);
      s.remove_prefix(width);
      continue;
    }
    if (c != '\\') {
      *out += c;
      s.remove_prefix(1);
      continue;
    }
    if (s.size() < 2) return false;
    char kind = s[1];
    s.remove_prefix(2);
    switch (kind) {
      case 'a': *out += '\a'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'n': *out += '\n'; break;
      case 'r': *out += '\r'; break;
      case 't': *out += '\t'; break;
      case 'v': *out += '\v'; break;
      case '\\': *out += '\\'; break;
      case 'x': case 'u': case 'U': {
        size_t n = kind == 'x' ? 2 : kind == 'u' ? 4 : 8;
        if (s.size() < n) return false;
        int64_t v = 0;
        for (size_t i = 0; i < n; ++i) {
          int d = DigitValue(static_cast<unsigned char>(s[i]));
          if (d >= 16) return false;
          v = (v << 4) | d;
        }
        s.remove_prefix(n);
        if (kind == 'x') {
          *out += static_cast<char>(v);  // one byte, possibly not UTF-8
        } else {
          if (v > kMaxRune) return false;
          AppendRune(out, static_cast<int32_t>(v));
        }
        break;
      }
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        if (s.size() < 2) return false;
        int v = kind - '0';
        for (size_t i = 0; i < 2; ++i) {
          int d = s[i] - '0';
          if (d < 0 || d > 7) return false;
          v = (v << 3) | d;
        }
        s.remove_prefix(2);
        if (v > 255) return false;
        *out += static_cast<char>(v);
        break;
      }
      case '"': case '/': case '|':
        if (kind != quote) return false;
        *out += kind;
        break;
      default:
        return false;
    }
  }
  return true;
}

struct ParseError {
  size_t pos;
  std::string reason;
};

class Parser {
 public:
  explicit Parser(std::string_view input) : input_(input), scanner_(input) {}

  // The selectors of one non-empty string, or the error.
  std::optional<ParseError> Parse(std::vector<Filter::Selector>* out) { return Selectors(out); }

  std::string Describe(const ParseError& error) const {
    std::string message = "filters: parse error: [";
    if (error.pos < input_.size()) {
      message += input_.substr(0, error.pos);
      message += " >|";
      message += input_[error.pos];  // one byte, as Go slices it
      message += "|< ";
      message += input_.substr(error.pos + 1);
    } else {
      message += input_;
    }
    message += "]: ";
    message += error.reason;
    return message;
  }

 private:
  std::optional<ParseError> Selectors(std::vector<Filter::Selector>* out) {
    Filter::Selector first;
    if (auto error = Selector(&first)) return error;
    out->push_back(std::move(first));
    for (;;) {
      int32_t r = scanner_.Peek();
      if (r == kEof) return std::nullopt;
      if (r != ',') {
        std::string reason = "unexpected input: ";
        AppendRune(&reason, r);
        return ParseError{scanner_.ppos(), std::move(reason)};
      }
      Scanned separator = scanner_.Scan();
      if (separator.token != kSeparator) return ParseError{separator.pos, "expected a separator"};
      Filter::Selector next;
      if (auto error = Selector(&next)) return error;
      out->push_back(std::move(next));
    }
  }

  std::optional<ParseError> Selector(Filter::Selector* out) {
    if (auto error = Fieldpath(&out->fieldpath)) return error;
    int32_t r = scanner_.Peek();
    if (r == ',' || r == kEof) {
      out->op = Operator::kPresent;
      return std::nullopt;
    }
    if (auto error = ReadOperator(&out->op)) return error;
    return Value(out->op == Operator::kMatches, &out->value);
  }

  std::optional<ParseError> Fieldpath(std::vector<std::string>* out) {
    std::string field;
    if (auto error = Field(&field)) return error;
    out->push_back(std::move(field));
    while (scanner_.Peek() == '.') {
      Scanned separator = scanner_.Scan();
      if (separator.token != kSeparator) {
        return ParseError{separator.pos, "expected a field separator (`.`)"};
      }
      if (auto error = Field(&field)) return error;
      out->push_back(std::move(field));
    }
    return std::nullopt;
  }

  std::optional<ParseError> Field(std::string* out) {
    Scanned s = scanner_.Scan();
    switch (s.token) {
      case kField: *out = s.text; return std::nullopt;
      case kQuoted: return UnquoteToken(s, /*allow_alternatives=*/false, out);
      case kIllegal: return ParseError{s.pos, scanner_.error()};
      default: return ParseError{s.pos, "expected field or quoted"};
    }
  }

  std::optional<ParseError> ReadOperator(Operator* out) {
    Scanned s = scanner_.Scan();
    if (s.token == kOperatorToken) {
      if (s.text == "==") {
        *out = Operator::kEqual;
      } else if (s.text == "!=") {
        *out = Operator::kNotEqual;
      } else if (s.text == "~=") {
        *out = Operator::kMatches;
      } else {
        std::string reason = "unsupported operator \"";
        reason += s.text;
        reason += '"';
        return ParseError{s.pos, std::move(reason)};
      }
      return std::nullopt;
    }
    if (s.token == kIllegal) return ParseError{s.pos, scanner_.error()};
    return ParseError{s.pos, "expected an operator (\"==\"|\"!=\"|\"~=\")"};
  }

  std::optional<ParseError> Value(bool allow_alternatives, std::string* out) {
    Scanned s = scanner_.Scan();
    switch (s.token) {
      case kValue: case kField: *out = s.text; return std::nullopt;
      case kQuoted: return UnquoteToken(s, allow_alternatives, out);
      case kIllegal: return ParseError{s.pos, scanner_.error()};
      default: return ParseError{s.pos, "expected value or quoted"};
    }
  }

  std::optional<ParseError> UnquoteToken(const Scanned& s, bool allow_alternatives,
                                         std::string* out) {
    if (!allow_alternatives && s.text.front() != '"') {
      return ParseError{s.pos, "invalid quote encountered"};
    }
    if (!Unquote(s.text, out)) return ParseError{s.pos, "unquoting failed: quote syntax error"};
    return std::nullopt;
  }

  std::string_view input_;
  Scanner scanner_;
};

std::optional<std::string> FieldValue(const FieldAdaptor& adaptor,
                                      const std::vector<std::string>& fieldpath) {
  return adaptor ? adaptor(fieldpath) : std::nullopt;
}

// RE2 accepts \C (any byte); Go's regexp, which containerd uses, refuses it.
// Otherwise the two accept the same patterns. \Q...\E quotes literally in both.
bool HasAnyByteEscape(std::string_view pattern) {
  for (size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '\\') continue;
    char next = pattern[++i];
    if (next == 'C') return true;
    if (next == 'Q') {
      size_t end = pattern.find("\\E", i + 1);
      if (end == std::string_view::npos) return false;
      i = end + 1;
    }
  }
  return false;
}

bool SelectorMatches(const Filter::Selector& selector, const FieldAdaptor& adaptor) {
  std::optional<std::string> value = FieldValue(adaptor, selector.fieldpath);
  switch (selector.op) {
    case Operator::kPresent: return value.has_value();
    case Operator::kEqual: return value.has_value() && *value == selector.value;
    // containerd compares the adaptor's "" for an absent field.
    case Operator::kNotEqual: return value.value_or("") != selector.value;
    case Operator::kMatches:
      return selector.regex != nullptr &&
             re2::RE2::PartialMatch(value.value_or(""), *selector.regex);
  }
  return false;
}

}  // namespace

Filter::Filter() = default;

Result<Filter> Filter::Parse(const std::vector<std::string>& filters) {
  auto alternatives = std::make_shared<std::vector<std::vector<Selector>>>();
  bool match_all = filters.empty();
  for (const std::string& text : filters) {
    // Every string is parsed even once one matches everything: an error in
    // any of them fails the whole call, as in containerd's ParseAll.
    if (text.empty()) {
      match_all = true;
      continue;
    }
    Parser parser(text);
    std::vector<Selector> selectors;
    if (std::optional<ParseError> error = parser.Parse(&selectors)) {
      return Status::InvalidArgument(parser.Describe(*error));
    }
    for (Selector& selector : selectors) {
      if (selector.op != Operator::kMatches) continue;
      // Go's regexp is RE2, so RE2 accepts the same language. Compiled here
      // once; containerd logs a bad regex on every evaluation, once is enough.
      re2::RE2::Options options;
      options.set_log_errors(false);
      auto regex = std::make_unique<re2::RE2>(selector.value, options);
      if (regex->ok() && !HasAnyByteEscape(selector.value)) {
        selector.regex = std::move(regex);
      } else {
        spdlog::debug("filters: selector {} is never true: invalid regular expression: {}",
                      text, regex->ok() ? "\\C is not supported" : regex->error());
      }
    }
    alternatives->push_back(std::move(selectors));
  }
  Filter filter;
  filter.match_all_ = match_all;
  if (!match_all) filter.alternatives_ = std::move(alternatives);
  return filter;
}

bool Filter::MatchesEverything() const { return match_all_; }

bool Filter::Match(const FieldAdaptor& adaptor) const {
  if (match_all_) return true;
  for (const std::vector<Selector>& selectors : *alternatives_) {
    bool all = std::all_of(selectors.begin(), selectors.end(),
                           [&](const Selector& s) { return SelectorMatches(s, adaptor); });
    if (all) return true;
  }
  return false;
}

}  // namespace casfs
