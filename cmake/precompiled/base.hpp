// Precompiled once per build (CMake target_precompile_headers; see cmake/precompiled.cmake) and
// included first in every translation unit of the targets that use it: the library headers that
// most of the code includes and that cost the most to parse. Only third-party and standard
// headers belong here: a project header in a precompiled header would rebuild everything when
// it changes.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
