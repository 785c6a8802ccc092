#pragma once
// The components.schemas object of the OpenAPI document, as JSON text (parsed once).
#include <string_view>

namespace tether::api::openapi {

std::string_view component_schemas_json();

}  // namespace tether::api::openapi
