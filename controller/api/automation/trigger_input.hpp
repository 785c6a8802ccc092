#pragma once
// The body of the triggers routes (POST, and PATCH once merged over the trigger as GET shows it).
// Throws http::ApiError 422 whose detail names the field ("filter.ref: ...", "endpoint_slug: ...").
// Fields it does not know are ignored, as seed 002's clients send their own (agent_name, prompt,
// scope, ...). Whether the job exists, and fits commit_ref_from, is the service's to say.
#include "controller/services/trigger_service.hpp"

#include <boost/json.hpp>

#include <cstddef>

namespace tether::api::automation {

inline constexpr std::size_t max_filter_entries = 20;
inline constexpr std::size_t max_filter_value_chars = 256;

services::TriggerSpec parse_trigger(const boost::json::object& body);

}  // namespace tether::api::automation
