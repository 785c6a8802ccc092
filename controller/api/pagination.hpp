#pragma once
// The one home of list paging for every list route: `limit` (default 100, at most 1,000) and an
// opaque `cursor` in, `next_cursor` out. A cursor is the last row's keyset position
// (store/page.hpp) in base64url; it is checked here against the shape of the list it came from, so
// a forged or mangled cursor is a 422 that names `cursor`, never a failed cast in SQL.
//
// Lists that answer an object add "next_cursor" (a string, or null on the last page) beside their
// array. Lists whose seed documents a bare array keep it and carry the cursor in headers instead:
// `X-Next-Cursor: <cursor>` and `Link: <path?...&cursor=...>; rel="next"`, as GitHub's API does.
#include "controller/http/types.hpp"
#include "controller/store/page.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <optional>
#include <string>

namespace tether::api {

constexpr int default_page_limit = 100;
constexpr int max_page_limit = 1000;

// What a list's keyset position is made of, so that a cursor can be checked before it reaches SQL.
enum class SortKey {
  micros,  // a time, as microseconds since the epoch
  text,    // a name (at most 1,024 bytes)
  none,    // the id alone orders the list
};
enum class RowId {
  uuid,
  integer,  // a bigserial
};
struct CursorShape {
  SortKey sort = SortKey::micros;
  RowId id = RowId::uuid;
};

std::string encode_cursor(const store::PageAfter& after);
// nullopt when `text` is not a cursor of a list of this shape.
std::optional<store::PageAfter> decode_cursor(const std::string& text, CursorShape shape);

// `limit` and `cursor` of the query. Throws ApiError 422 naming `limit` or `cursor`.
store::PageRequest page_request(const std::map<std::string, std::string>& params, CursorShape shape = {},
                                int default_limit = default_page_limit);

// "next_cursor": the cursor of `next`, or null.
void add_next_cursor(boost::json::object& body, const std::optional<store::PageAfter>& next);
// For a bare-array answer: X-Next-Cursor and a Link to the next page (the request's own target
// with `cursor` replaced). Nothing on the last page.
void add_next_cursor_headers(http::Response& response, const http::Request& request,
                             const std::optional<store::PageAfter>& next);

}  // namespace tether::api
