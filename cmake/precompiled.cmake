# Precompiled headers: Boost.Asio/Beast/JSON/URL, fmt, spdlog, libpqxx and Catch2 are parsed once
# per build instead of once per translation unit. Three headers in cmake/precompiled/ (base,
# controller, tests), each compiled in one target and reused by the targets built with the same
# flags; a reuse GCC finds invalid falls back to including the header as text (slower, still
# correct). Off with -DTETHER_PRECOMPILED_HEADERS=OFF.
option(TETHER_PRECOMPILED_HEADERS "parse the heavy library headers once per build" ON)

# `target` compiles `header` (base, controller or tests) for itself and for its reusers.
function(tether_precompile target header)
  if(TETHER_PRECOMPILED_HEADERS)
    target_precompile_headers(${target} PRIVATE "${PROJECT_SOURCE_DIR}/cmake/precompiled/${header}.hpp")
  endif()
endfunction()

# `target` uses the precompiled headers of `from`.
function(tether_reuse_precompiled target from)
  if(TETHER_PRECOMPILED_HEADERS)
    target_precompile_headers(${target} REUSE_FROM ${from})
  endif()
endfunction()
