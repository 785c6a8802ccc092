#pragma once
#include <cstdint>

namespace tether::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it for a socket that is
// closed again before returning). Another process could take it in between; on a test machine
// that window is negligible.
std::uint16_t free_loopback_port();

}  // namespace tether::testing
