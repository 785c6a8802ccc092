#include "common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace tether::crypto {

std::string random_bytes(std::size_t count) {
  std::string out(count, '\0');
  if (count > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

std::string new_secret(std::string_view prefix) {
  return std::string(prefix) + hex_encode(random_bytes(32));
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), digest, &length)) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string hex_encode(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0x0f]);
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw std::invalid_argument("base64 input length is not a multiple of 4");
  // EVP_DecodeBlock does not check where '=' stands; padding may only end the text.
  const auto first_pad = text.find('=');
  if (first_pad != std::string_view::npos &&
      (first_pad + 2 < text.size() || text.find_first_not_of('=', first_pad) != std::string_view::npos)) {
    throw std::invalid_argument("malformed base64 padding");
  }
  std::string out(3 * text.size() / 4, '\0');
  int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (written < 0) throw std::invalid_argument("malformed base64 input");
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(written) - padding);
  return out;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace tether::crypto

namespace tether::crypto {
namespace {

constexpr std::size_t gcm_key_size = 32;
constexpr std::size_t gcm_nonce_size = 12;
constexpr std::size_t gcm_tag_size = 16;

struct CipherContext {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  CipherContext() {
    if (!ctx) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  }
  ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }
  CipherContext(const CipherContext&) = delete;
  CipherContext& operator=(const CipherContext&) = delete;
};

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

void check(int ok, const char* what) {
  if (ok != 1) throw std::runtime_error(std::string("AES-256-GCM: ") + what + " failed");
}

}  // namespace

std::string seal(std::string_view key, std::string_view plaintext) {
  if (key.size() != gcm_key_size) throw std::invalid_argument("AES-256-GCM needs a 32-byte key");
  const std::string nonce = random_bytes(gcm_nonce_size);
  std::string out = nonce;
  out.resize(gcm_nonce_size + plaintext.size() + gcm_tag_size);
  CipherContext c;
  check(EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)), "init");
  int written = 0;
  check(EVP_EncryptUpdate(c.ctx, bytes(out) + gcm_nonce_size, &written, bytes(plaintext),
                          static_cast<int>(plaintext.size())),
        "encrypt");
  int final_written = 0;
  check(EVP_EncryptFinal_ex(c.ctx, bytes(out) + gcm_nonce_size + written, &final_written), "finish");
  check(EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, gcm_tag_size,
                            bytes(out) + gcm_nonce_size + plaintext.size()),
        "tag");
  return out;
}

std::string open(std::string_view key, std::string_view sealed) {
  if (key.size() != gcm_key_size) throw std::invalid_argument("AES-256-GCM needs a 32-byte key");
  if (sealed.size() < gcm_nonce_size + gcm_tag_size) throw std::runtime_error("sealed data too short");
  const auto nonce = sealed.substr(0, gcm_nonce_size);
  const auto ciphertext = sealed.substr(gcm_nonce_size, sealed.size() - gcm_nonce_size - gcm_tag_size);
  std::string tag(sealed.substr(sealed.size() - gcm_tag_size));
  std::string out(ciphertext.size(), '\0');
  CipherContext c;
  check(EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)), "init");
  int written = 0;
  check(EVP_DecryptUpdate(c.ctx, bytes(out), &written, bytes(ciphertext), static_cast<int>(ciphertext.size())),
        "decrypt");
  check(EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, gcm_tag_size, tag.data()), "tag");
  int final_written = 0;
  if (EVP_DecryptFinal_ex(c.ctx, bytes(out) + written, &final_written) != 1) {
    throw std::runtime_error("AES-256-GCM: data was not sealed with this key or was altered");
  }
  return out;
}

}  // namespace tether::crypto
