#pragma once
#include <string>
#include <string_view>

namespace tether::utf8 {

// Command output is arbitrary bytes, but JSON strings must be UTF-8: invalid sequences become
// U+FFFD so a response is always valid JSON and valid text is passed through untouched.
std::string sanitize(std::string_view bytes);

}  // namespace tether::utf8
