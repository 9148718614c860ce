#pragma once
// fm::Error: every failure the library reports. Messages name the op, the shapes, dtypes
// and devices involved, and what was expected.
#include <sstream>
#include <stdexcept>
#include <string>

namespace fm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void concat(std::ostringstream&) {}
template <class T, class... R>
void concat(std::ostringstream& os, const T& v, const R&... rest) {
  os << v;
  concat(os, rest...);
}
}  // namespace detail

template <class... A>
[[noreturn]] void fail(const A&... parts) {
  std::ostringstream os;
  detail::concat(os, parts...);
  throw Error(os.str());
}

}  // namespace fm

// FM_CHECK(cond, "op: message parts", ...) throws fm::Error built from the parts.
#define FM_CHECK(cond, ...)              \
  do {                                   \
    if (!(cond)) ::fm::fail(__VA_ARGS__); \
  } while (0)
