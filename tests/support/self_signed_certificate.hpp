#pragma once
// A throwaway self-signed certificate (EC P-256, one day) for TLS tests, made with the openssl
// command line in a temporary directory that goes with the object.
#include "tests/support/temp_dir.hpp"

#include <boost/asio/ssl/context.hpp>

#include <string>

namespace tether::testing {

class SelfSignedCertificate {
 public:
  // `san` is the subjectAltName, e.g. "IP:127.0.0.1" or "DNS:localhost". Throws when openssl fails.
  explicit SelfSignedCertificate(const std::string& san);

  const std::string& cert_file() const { return cert_; }
  const std::string& key_file() const { return key_; }
  // A server context presenting this certificate.
  boost::asio::ssl::context server_context() const;

 private:
  TempDir dir_{"tether-cert"};
  std::string cert_;
  std::string key_;
};

}  // namespace tether::testing
