// The controller's precompiled headers: the common ones and libpqxx (see base.hpp).
#pragma once

#include "cmake/precompiled/base.hpp"

#include <pqxx/pqxx>
