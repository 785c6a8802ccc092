// The tests' precompiled headers: the controller's and Catch2's single header (see base.hpp).
#pragma once

#include "cmake/precompiled/controller.hpp"

#include <catch2/catch.hpp>
