// Runs a fuzz target over files instead of under libFuzzer: `fuzz_NAME_replay DIR|FILE...` feeds each
// file once to LLVMFuzzerTestOneInput. The ctest entries use it to replay the checked-in seed
// corpora with g++ and the sanitizers, so the suite needs neither clang nor fuzzing time.
// An empty corpus is an error: a replay that runs nothing must not pass.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", file.c_str());
    std::exit(2);
  }
  // Exactly as many bytes as the file holds, on the heap, so ASan sees any read past the end.
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.shrink_to_fit();
  std::fprintf(stderr, "replaying %s (%zu bytes)\n", file.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path path(argv[i]);
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.push_back(path);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR|FILE... (no input found)\n", argv[0]);
    return 2;
  }
  for (const auto& file : files) replay(file);
  std::printf("replayed %zu inputs without a finding\n", files.size());
  return 0;
}
