#pragma once
#include <string>
#include <string_view>

namespace tether::utf8 {

// Command output is arbitrary bytes, but JSON strings must be UTF-8: invalid sequences become
// U+FFFD so a response is always valid JSON and valid text is passed through untouched.
std::string sanitize(std::string_view bytes);

// The length of the longest prefix of `bytes` that is valid UTF-8 (bytes.size() when all of it is).
std::size_t valid_prefix_length(std::string_view bytes);

// How many bytes at the end of `bytes` begin a valid sequence that is not finished yet (0-3):
// output arrives in chunks that may split a character, and the tail belongs with the next chunk.
std::size_t incomplete_tail_length(std::string_view bytes);

// The number of characters (code points) in valid UTF-8 text: limits documented in characters
// count these, not bytes.
std::size_t code_points(std::string_view text);

// At most `max_bytes` of `text`, cut before a character rather than inside one, for echoing a
// client's input in a message without echoing all of it.
std::string_view head(std::string_view text, std::size_t max_bytes);

}  // namespace tether::utf8
