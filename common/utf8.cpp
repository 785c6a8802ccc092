#include "common/utf8.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace tether::utf8 {
namespace {

struct SequenceRule {
  std::size_t length = 0;  // 0: not a lead byte
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
};

// What a sequence starting with `lead` must look like (RFC 3629).
SequenceRule rule_for(unsigned char lead) {
  if (lead < 0x80) return {1};
  if (lead >= 0xC2 && lead <= 0xDF) return {2};
  if (lead == 0xE0) return {3, 0xA0};
  if (lead >= 0xE1 && lead <= 0xEC) return {3};
  if (lead == 0xED) return {3, 0x80, 0x9F};
  if (lead >= 0xEE && lead <= 0xEF) return {3};
  if (lead == 0xF0) return {4, 0x90};
  if (lead >= 0xF1 && lead <= 0xF3) return {4};
  if (lead == 0xF4) return {4, 0x80, 0x8F};
  return {};
}

// Whether s[i..i+count) is a valid beginning of the sequence `rule` describes.
bool valid_prefix(std::string_view s, std::size_t i, const SequenceRule& rule, std::size_t count) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  if (count >= 2 && (byte(i + 1) < rule.min_second || byte(i + 1) > rule.max_second)) return false;
  for (std::size_t k = 2; k < count; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return false;
  }
  return true;
}

// Length of the valid UTF-8 sequence starting at `i`, or 0 when it is not valid.
std::size_t valid_sequence_length(std::string_view s, std::size_t i) {
  const auto rule = rule_for(static_cast<unsigned char>(s[i]));
  if (rule.length == 0 || i + rule.length > s.size()) return 0;
  return valid_prefix(s, i, rule, rule.length) ? rule.length : 0;
}

}  // namespace

std::size_t valid_prefix_length(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    // Output is mostly ASCII: skip it 32 bytes at a time.
    while (i + 32 <= bytes.size()) {
      std::uint64_t words[4];
      std::memcpy(words, bytes.data() + i, sizeof words);
      if ((words[0] | words[1] | words[2] | words[3]) & 0x8080808080808080ULL) break;
      i += 32;
    }
    const auto end = std::min(bytes.size(), i + 32);
    while (i < end) {
      if (static_cast<unsigned char>(bytes[i]) < 0x80) {
        ++i;
      } else if (std::size_t length = valid_sequence_length(bytes, i)) {
        i += length;
      } else {
        return i;
      }
    }
  }
  return bytes.size();
}

std::string sanitize(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    const auto valid = valid_prefix_length(bytes);
    out.append(bytes.substr(0, valid));
    if (valid == bytes.size()) break;
    out.append("\xEF\xBF\xBD");
    bytes.remove_prefix(valid + 1);
  }
  return out;
}

std::size_t incomplete_tail_length(std::string_view bytes) {
  // A sequence is at most 4 bytes, so an unfinished one starts within the last 3.
  for (std::size_t back = 1; back <= 3 && back <= bytes.size(); ++back) {
    const std::size_t start = bytes.size() - back;
    const auto byte = static_cast<unsigned char>(bytes[start]);
    if (byte >= 0x80 && byte <= 0xBF) continue;  // a continuation byte: the lead is further back
    const auto rule = rule_for(byte);
    return rule.length > back && valid_prefix(bytes, start, rule, back) ? back : 0;
  }
  return 0;
}

std::size_t code_points(std::string_view text) {
  // Every character has exactly one byte that is not a continuation byte (10xxxxxx).
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string_view head(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace tether::utf8
