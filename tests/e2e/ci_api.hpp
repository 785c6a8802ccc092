#pragma once
// Operator and v1 calls of the CI surface (applications, deployments, registry credentials,
// operations, audit) for the end-to-end tests, with Catch2 assertions on the expected status.
#include "tests/e2e/e2e_checks.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace tether::e2e {

// An operator call with the admin key that must answer `expected_status` with a JSON object.
inline boost::json::object admin_json(testing::TetherStack& stack, std::string_view method, const std::string& target,
                                      const boost::json::object* body, unsigned expected_status) {
  const auto response = stack.admin(method, target, body ? boost::json::serialize(*body) : std::string());
  INFO(method << " " << target << " -> " << describe(response));
  REQUIRE(response.status == expected_status);
  return json_object(response);
}

inline boost::json::object admin_get(testing::TetherStack& stack, const std::string& target) {
  return admin_json(stack, "GET", target, nullptr, 200);
}

inline boost::json::object admin_post(testing::TetherStack& stack, const std::string& target,
                                      const boost::json::object& body, unsigned expected_status = 201) {
  return admin_json(stack, "POST", target, &body, expected_status);
}

inline boost::json::object admin_patch(testing::TetherStack& stack, const std::string& target,
                                       const boost::json::object& body) {
  return admin_json(stack, "PATCH", target, &body, 200);
}

// The array at obj[key] (REQUIREd to be one).
inline const boost::json::array& array_field(const boost::json::object& obj, std::string_view key) {
  INFO("field " << key << " of " << boost::json::serialize(obj));
  const auto* value = obj.if_contains(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->is_array());
  return value->as_array();
}

inline std::vector<std::string> strings_of(const boost::json::array& array) {
  std::vector<std::string> out;
  for (const auto& value : array) out.emplace_back(value.is_string() ? std::string(value.as_string()) : "<not a string>");
  return out;
}

// POST /api/registry-credentials; returns the 201 answer.
inline boost::json::object create_registry_credential(testing::TetherStack& stack, const std::string& name,
                                                      const std::string& registry_url, const std::string& registry_type,
                                                      const std::string& username, const std::string& password) {
  return admin_post(stack, "/api/registry-credentials",
                    {{"name", name},
                     {"registry_url", registry_url},
                     {"registry_type", registry_type},
                     {"username", username},
                     {"password", password}});
}

// A registry password of the shape the controller must keep secret.
inline std::string new_registry_password() { return "regpw-" + crypto::hex_encode(crypto::random_bytes(20)); }

inline boost::json::object login_body(const std::string& server_id, const std::string& credential_id) {
  return {{"server_id", server_id}, {"credential_id", credential_id}};
}

inline boost::json::object restart_body(const std::string& server_id, const std::string& container_name) {
  return {{"server_id", server_id}, {"container_name", container_name}};
}

// GET /api/operations/{id}: the operator's view (v1 view + status_detail, error, env_keys, ...).
inline boost::json::object operator_operation(testing::TetherStack& stack, const std::string& operation_id) {
  return admin_get(stack, "/api/operations/" + operation_id);
}

}  // namespace tether::e2e
