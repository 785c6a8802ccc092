#pragma once
// One logging set-up for both binaries: spdlog to stderr, one line per event, UTC timestamps.
// Log lines carry key=value fields so they can be grepped and parsed; secrets are never passed in.
// Control characters in a message are escaped (\n, \xNN), so one event is always one line; a
// value a peer chose (a hostname, an error text) is also passed through quote(), so that it cannot
// pose as another key=value field either.
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace tether::logging {

// level: trace|debug|info|warn|error|off. Throws std::invalid_argument for anything else.
void init(const std::string& component, const std::string& level);

// `value` in double quotes, with quotes, backslashes and control characters escaped.
std::string quote(std::string_view value);

}  // namespace tether::logging
