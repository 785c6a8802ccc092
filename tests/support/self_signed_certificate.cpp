#include "tests/support/self_signed_certificate.hpp"

#include "tests/support/child_process.hpp"

#include <stdexcept>

namespace tether::testing {

SelfSignedCertificate::SelfSignedCertificate(const std::string& san)
    : cert_((dir_ / "cert.pem").string()), key_((dir_ / "key.pem").string()) {
  const auto result = run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                   "-nodes", "-days", "1", "-subj", "/CN=test", "-addext", "subjectAltName=" + san,
                                   "-keyout", key_, "-out", cert_},
                                  std::chrono::seconds(30));
  if (!result.succeeded()) throw std::runtime_error("openssl could not make a certificate: " + result.err);
}

boost::asio::ssl::context SelfSignedCertificate::server_context() const {
  boost::asio::ssl::context context(boost::asio::ssl::context::tls_server);
  context.use_certificate_chain_file(cert_);
  context.use_private_key_file(key_, boost::asio::ssl::context::pem);
  return context;
}

}  // namespace tether::testing
