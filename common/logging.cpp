#include "common/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <stdexcept>

namespace tether::logging {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_escaped(std::string_view text, bool escape_quotes, spdlog::memory_buf_t& out) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out.append(std::string_view("\\n"));
    } else if (c == '\r') {
      out.append(std::string_view("\\r"));
    } else if (c == '\t') {
      out.append(std::string_view("\\t"));
    } else if (c < 0x20 || c == 0x7f) {
      const char escaped[] = {'\\', 'x', hex_digits[c >> 4], hex_digits[c & 0xf]};
      out.append(escaped, escaped + sizeof escaped);
    } else if (escape_quotes && (c == '"' || c == '\\')) {
      const char escaped[] = {'\\', ch};
      out.append(escaped, escaped + sizeof escaped);
    } else {
      out.push_back(ch);
    }
  }
}

// The message of a log line with its control characters escaped: whatever a value carries (a
// peer's hostname, an error text), one event stays one line and cannot forge another.
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    append_escaped(std::string_view(msg.payload.data(), msg.payload.size()), false, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessage>(); }
};

}  // namespace

std::string quote(std::string_view value) {
  spdlog::memory_buf_t out;
  out.push_back('"');
  append_escaped(value, true, out);
  out.push_back('"');
  return std::string(out.data(), out.size());
}

void init(const std::string& component, const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    throw std::invalid_argument("unknown log level '" + level + "' (expected trace, debug, info, warn, error or off)");
  }
  auto logger = spdlog::stderr_logger_mt(component);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<EscapedMessage>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %n %*");
  logger->set_formatter(std::move(formatter));
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

}  // namespace tether::logging
