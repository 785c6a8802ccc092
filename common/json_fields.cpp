#include "common/json_fields.hpp"

#include "common/utf8.hpp"

#include <fmt/format.h>

#include <cmath>

namespace tether::json {
namespace {

const boost::json::value* find_present(const boost::json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

[[noreturn]] void wrong_type(std::string_view key, std::string_view expected) {
  throw FieldError(fmt::format("{}: must be {}", key, expected));
}

// A key as it is shown in a field path: long keys are cut so a message stays short.
std::string key_in_path(std::string_view key) {
  const auto shown = utf8::head(key, 64);
  return shown.size() == key.size() ? std::string(key) : std::string(shown) + "...";
}

// `path` names `value` in messages; empty for the whole document, which is then called `what`.
void refuse_nul(const boost::json::value& value, const std::string& path, std::string_view what) {
  switch (value.kind()) {
    case boost::json::kind::string:
      if (std::string_view(value.get_string()).find('\0') != std::string_view::npos) {
        throw FieldError(fmt::format("{}: must not contain the NUL character (\\u0000)", path));
      }
      break;
    case boost::json::kind::array: {
      const auto& array = value.get_array();
      for (std::size_t i = 0; i < array.size(); ++i) refuse_nul(array[i], fmt::format("{}[{}]", path, i), what);
      break;
    }
    case boost::json::kind::object:
      for (const auto& item : value.get_object()) {
        if (std::string_view(item.key()).find('\0') != std::string_view::npos) {
          throw FieldError(fmt::format("{}: a key must not contain the NUL character (\\u0000)",
                                       path.empty() ? std::string(what) : path));
        }
        const auto key = key_in_path(std::string_view(item.key()));
        refuse_nul(item.value(), path.empty() ? key : path + "." + key, what);
      }
      break;
    default:
      break;
  }
}

}  // namespace

boost::json::object parse_storable_object(std::string_view text, std::string_view what) {
  auto object = parse_object(text, what);
  refuse_nul(object, "", what);
  return object;
}

boost::json::object parse_object(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(text, ec);
  if (ec) throw FieldError(fmt::format("{} is not valid JSON: {}", what, ec.message()));
  if (!value.is_object()) throw FieldError(fmt::format("{} must be a JSON object", what));
  return std::move(value.as_object());
}

std::optional<std::string> optional_string(const boost::json::object& obj, std::string_view key) {
  const auto* value = find_present(obj, key);
  if (!value) return std::nullopt;
  if (!value->is_string()) wrong_type(key, "a string");
  return std::string(value->as_string());
}

std::string required_string(const boost::json::object& obj, std::string_view key) {
  auto value = optional_string(obj, key);
  if (!value) throw FieldError(fmt::format("{}: field required", key));
  return *value;
}

std::optional<std::int64_t> optional_int(const boost::json::object& obj, std::string_view key) {
  const auto* value = find_present(obj, key);
  if (!value) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value->as_uint64());
  }
  if (value->is_double()) {
    // Only a whole number within int64's range may be converted: converting any other double is
    // undefined behaviour (JSON allows 1e300).
    const double d = value->as_double();
    if (d >= -0x1p63 && d < 0x1p63 && d == std::trunc(d)) return static_cast<std::int64_t>(d);
  }
  wrong_type(key, "an integer");
}

std::int64_t required_int(const boost::json::object& obj, std::string_view key) {
  auto value = optional_int(obj, key);
  if (!value) throw FieldError(fmt::format("{}: field required", key));
  return *value;
}

std::optional<bool> optional_bool(const boost::json::object& obj, std::string_view key) {
  const auto* value = find_present(obj, key);
  if (!value) return std::nullopt;
  if (!value->is_bool()) wrong_type(key, "true or false");
  return value->as_bool();
}

std::optional<boost::json::object> optional_object(const boost::json::object& obj, std::string_view key) {
  const auto* value = find_present(obj, key);
  if (!value) return std::nullopt;
  if (!value->is_object()) wrong_type(key, "an object");
  return value->as_object();
}

std::optional<boost::json::array> optional_array(const boost::json::object& obj, std::string_view key) {
  const auto* value = find_present(obj, key);
  if (!value) return std::nullopt;
  if (!value->is_array()) wrong_type(key, "an array");
  return value->as_array();
}

std::string serialize(const boost::json::value& value) { return boost::json::serialize(value); }

}  // namespace tether::json
