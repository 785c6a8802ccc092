#pragma once
// What the page statements of the automation and user lists share beside keyed_page.hpp's
// after_sort/after_id (the position as parameters, which the SQL casts back: `$n::bigint` for a
// micros key, `$n::text` for a name, `$m::uuid`).
#include "controller/store/keyed_page.hpp"
#include "controller/store/page.hpp"

namespace tether::store {

// limit + 1: the extra row only says whether another page follows (page_of drops it).
inline int read_limit(const PageRequest& page) { return page.limit + 1; }

}  // namespace tether::store
