#pragma once
// The controller's background loops, each declared once: what seed 001's automations API lists
// (in this order) and what application.cpp binds a pass and a cadence to. The README's
// "Background loops" table says the same.
#include "controller/automations/loop.hpp"

#include <optional>
#include <vector>

namespace tether::automations {

const std::vector<LoopSpec>& catalog();
const LoopSpec* find_spec(const std::string& key);

}  // namespace tether::automations
