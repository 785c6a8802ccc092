# Unity build: a library's sources are compiled in batches, each batch one translation unit, so the
# library templates they share (Boost.JSON, Beast, fmt, libpqxx) are instantiated and optimised
# once per batch instead of once per file. A batch of store files compiles in a quarter of the
# time its files take one by one. The price: names in a file's anonymous namespace must not clash
# with another file's, and a change to one file recompiles its batch. Off with
# -DTETHER_UNITY_BUILD=OFF (one translation unit per file, as the sources are written).
option(TETHER_UNITY_BUILD "compile the libraries' sources in batches" ON)

# `target`'s sources in batches of `batch_size` files, in the order they are listed.
function(tether_unity target batch_size)
  if(TETHER_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_MODE BATCH
                                               UNITY_BUILD_BATCH_SIZE ${batch_size})
  endif()
endfunction()
