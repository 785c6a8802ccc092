#pragma once
// One logging set-up for both binaries: spdlog to stderr, one line per event, UTC timestamps.
// Log lines carry key=value fields so they can be grepped and parsed; secrets are never passed in.
#include <spdlog/spdlog.h>

#include <string>

namespace tether::logging {

// level: trace|debug|info|warn|error|off. Throws std::invalid_argument for anything else.
void init(const std::string& component, const std::string& level);

}  // namespace tether::logging
