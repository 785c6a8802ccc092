#include "controller/api/pagination.hpp"

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "controller/api/handler_support.hpp"
#include "controller/http/responses.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace tether::api {
namespace {

using http::bhttp::status;

// A cursor is "<sort>\n<id>" in base64url without padding: opaque to clients, safe in a query.
constexpr char separator = '\n';
constexpr std::size_t max_sort_bytes = 1024;
constexpr std::size_t max_cursor_chars = 2048;

std::string to_base64url(std::string text) {
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

std::optional<std::string> from_base64url(std::string text) {
  for (char& c : text) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (c == '+' || c == '/' || c == '=') return std::nullopt;  // only the url-safe alphabet
  }
  if (text.size() % 4 == 1) return std::nullopt;
  while (text.size() % 4 != 0) text.push_back('=');
  try {
    return crypto::base64_decode(text);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

bool is_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

bool sort_fits(std::string_view sort, SortKey kind) {
  switch (kind) {
    case SortKey::micros: return is_integer(sort);
    case SortKey::text: return sort.size() <= max_sort_bytes && sort.find('\0') == std::string_view::npos;
    case SortKey::none: return sort.empty();
  }
  return false;
}

bool id_fits(std::string_view id, RowId kind) {
  return kind == RowId::uuid ? ids::is_uuid(id) : is_integer(id);
}

}  // namespace

std::string encode_cursor(const store::PageAfter& after) {
  return to_base64url(crypto::base64_encode(after.sort + separator + after.id));
}

std::optional<store::PageAfter> decode_cursor(const std::string& text, CursorShape shape) {
  if (text.empty() || text.size() > max_cursor_chars) return std::nullopt;
  const auto raw = from_base64url(text);
  if (!raw) return std::nullopt;
  // The id never holds the separator; a name may, so the last one splits.
  const auto cut = raw->rfind(separator);
  if (cut == std::string::npos) return std::nullopt;
  store::PageAfter after{raw->substr(0, cut), raw->substr(cut + 1)};
  if (!sort_fits(after.sort, shape.sort) || !id_fits(after.id, shape.id)) return std::nullopt;
  return after;
}

store::PageRequest page_request(const std::map<std::string, std::string>& params, CursorShape shape,
                                int default_limit) {
  store::PageRequest request;
  request.limit = limit_query_param(params, default_limit, max_page_limit);
  if (auto it = params.find("cursor"); it != params.end()) {
    request.after = decode_cursor(it->second, shape);
    if (!request.after) {
      throw http::ApiError(status::unprocessable_entity,
                           "cursor: not a cursor of this list (pass next_cursor from the previous page unchanged)");
    }
  }
  return request;
}

void add_next_cursor(boost::json::object& body, const std::optional<store::PageAfter>& next) {
  body["next_cursor"] = next ? boost::json::value(encode_cursor(*next)) : boost::json::value(nullptr);
}

void add_next_cursor_headers(http::Response& response, const http::Request& request,
                             const std::optional<store::PageAfter>& next) {
  if (!next) return;
  const auto cursor = encode_cursor(*next);
  response.set("X-Next-Cursor", cursor);
  auto target = boost::urls::parse_origin_form(request.target());
  if (!target) return;
  boost::urls::url link(*target);
  link.params().set("cursor", cursor);
  response.set(http::bhttp::field::link, "<" + std::string(link.buffer()) + ">; rel=\"next\"");
}

}  // namespace tether::api
