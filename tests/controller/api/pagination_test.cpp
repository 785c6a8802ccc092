#include "controller/api/pagination.hpp"
#include "controller/http/responses.hpp"

#include <catch2/catch.hpp>

#include <functional>

namespace tether::api {
namespace {

const std::string uuid = "0b9f6f0e-4c59-4a1e-9a53-6c1d2f3e4a5b";

int status_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const http::ApiError& error) {
    return static_cast<int>(error.status());
  }
  return 0;
}

std::string detail_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const http::ApiError& error) {
    return error.what();
  }
  return {};
}

}  // namespace

TEST_CASE("a cursor comes back as the position it was made from", "[pagination]") {
  const store::PageAfter by_time{"1796083200123456", uuid};
  CHECK(decode_cursor(encode_cursor(by_time), {SortKey::micros, RowId::uuid}) == by_time);
  // A name may hold the separator, slashes and any UTF-8: the cursor stays url-safe.
  const store::PageAfter by_name{"web\n01/ä+?&=", uuid};
  const auto cursor = encode_cursor(by_name);
  CHECK(cursor.find_first_of("+/=?&\n") == std::string::npos);
  CHECK(decode_cursor(cursor, {SortKey::text, RowId::uuid}) == by_name);
  const store::PageAfter by_number{"", "42"};
  CHECK(decode_cursor(encode_cursor(by_number), {SortKey::none, RowId::integer}) == by_number);
}

TEST_CASE("a cursor of another list's shape, or a mangled one, is not accepted", "[pagination]") {
  const auto by_name = encode_cursor({"web-01", uuid});
  CHECK_FALSE(decode_cursor(by_name, {SortKey::micros, RowId::uuid}));  // a name is not a time
  CHECK_FALSE(decode_cursor(encode_cursor({"12", "not-a-uuid"}), {SortKey::micros, RowId::uuid}));
  CHECK_FALSE(decode_cursor(encode_cursor({"", uuid}), {SortKey::none, RowId::integer}));
  CHECK_FALSE(decode_cursor("", {}));
  CHECK_FALSE(decode_cursor("!!!!", {}));
  CHECK_FALSE(decode_cursor("a", {}));                     // not a whole base64 group
  CHECK_FALSE(decode_cursor("MTIzNDU2Nzg5MA==", {}));      // standard padding is not url-safe
  CHECK_FALSE(decode_cursor(std::string(4096, 'A'), {}));  // longer than any cursor
  CHECK_FALSE(decode_cursor(encode_cursor({"1", uuid}).substr(1), {}));
}

TEST_CASE("limit defaults to 100, takes 1 to 1000, and a bad cursor or limit is a 422 naming it",
          "[pagination]") {
  CHECK(page_request({}).limit == 100);
  CHECK_FALSE(page_request({}).after);
  CHECK(page_request({{"limit", "1000"}}).limit == 1000);
  CHECK(page_request({{"limit", "7"}}, {}, 100).limit == 7);
  CHECK(status_of([] { page_request({{"limit", "1001"}}); }) == 422);
  CHECK(detail_of([] { page_request({{"limit", "0"}}); }).starts_with("limit:"));
  CHECK(status_of([] { page_request({{"cursor", "garbage"}}); }) == 422);
  CHECK(detail_of([] { page_request({{"cursor", "garbage"}}); }).starts_with("cursor:"));
  const auto request = page_request({{"limit", "5"}, {"cursor", encode_cursor({"99", uuid})}});
  CHECK(request.limit == 5);
  REQUIRE(request.after);
  CHECK(request.after->sort == "99");
}

TEST_CASE("a page keeps limit rows and continues after the last one only when more follow", "[pagination]") {
  const auto key = [](int row) { return store::PageAfter{std::to_string(row), uuid}; };
  const auto more = store::page_of(std::vector<int>{1, 2, 3, 4}, 3, key);
  CHECK(more.rows == std::vector<int>{1, 2, 3});
  REQUIRE(more.next);
  CHECK(more.next->sort == "3");
  const auto last = store::page_of(std::vector<int>{1, 2, 3}, 3, key);
  CHECK(last.rows.size() == 3);
  CHECK_FALSE(last.next);
}

TEST_CASE("a bare-array answer carries the next cursor in X-Next-Cursor and a Link to the next page",
          "[pagination]") {
  http::Request request{http::bhttp::verb::get, "/api/admin/users?limit=2&cursor=old", 11};
  auto response = http::json_response(http::bhttp::status::ok, boost::json::array{});
  const store::PageAfter next{"", "7"};
  add_next_cursor_headers(response, request, next);
  const auto cursor = encode_cursor(next);
  CHECK(std::string(response["X-Next-Cursor"]) == cursor);
  CHECK(std::string(response[http::bhttp::field::link]) ==
        "</api/admin/users?limit=2&cursor=" + cursor + ">; rel=\"next\"");
  auto last = http::json_response(http::bhttp::status::ok, boost::json::array{});
  add_next_cursor_headers(last, request, std::nullopt);
  CHECK(last.find("X-Next-Cursor") == last.end());
  boost::json::object body;
  add_next_cursor(body, std::nullopt);
  CHECK(body.at("next_cursor").is_null());
  add_next_cursor(body, next);
  CHECK(body.at("next_cursor").as_string() == cursor);
}

}  // namespace tether::api
