#pragma once
// How long the operation and run event streams wait before they look again; the two streams
// poll the same store and share the output hub's budget, so they wait alike.
#include <chrono>

namespace tether::streams {

// After a failed database read: the stream stays open and tries again.
inline constexpr auto db_retry_delay = std::chrono::seconds(1);
// While the output hub is over its memory budget: how soon a stream looks again whether there is
// room for its next page.
inline constexpr auto budget_wait = std::chrono::milliseconds(50);

}  // namespace tether::streams
