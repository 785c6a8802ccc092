#pragma once
// Typed access to the fields of a JSON object with messages that name the field at fault.
// Both the REST handlers (request bodies) and the protocol codecs (agent messages) use these,
// so a malformed message is always reported the same way: a FieldError naming the field.
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tether::json {

class FieldError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Parses `text` as a JSON object; throws FieldError("request body is not valid JSON: ...") etc.
boost::json::object parse_object(std::string_view text, std::string_view what = "request body");

// parse_object for text a client sends that may be stored: also refuses a NUL character (\u0000)
// in any string or key, however deeply nested, with a FieldError naming where it is
// ("run_context.ci.repo: ...", "tags[2]: ..."). PostgreSQL's text cannot hold NUL (it would be cut
// there) and its jsonb refuses it, so this is the one check that covers every field of every
// request body. Agent messages do not go through it: a peer's stray NUL must not cost its link.
boost::json::object parse_storable_object(std::string_view text, std::string_view what = "request body");

std::optional<std::string> optional_string(const boost::json::object& obj, std::string_view key);
std::string required_string(const boost::json::object& obj, std::string_view key);
std::optional<std::int64_t> optional_int(const boost::json::object& obj, std::string_view key);
std::int64_t required_int(const boost::json::object& obj, std::string_view key);
std::optional<bool> optional_bool(const boost::json::object& obj, std::string_view key);
// An absent or null field gives nullopt; any other non-object is an error.
std::optional<boost::json::object> optional_object(const boost::json::object& obj, std::string_view key);
std::optional<boost::json::array> optional_array(const boost::json::object& obj, std::string_view key);

std::string serialize(const boost::json::value& value);

}  // namespace tether::json
