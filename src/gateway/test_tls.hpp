#pragma once
// Test support: a throw-away CA and a server certificate it signed for IP 127.0.0.1, made with the openssl
// command (scripts/install-deps.sh installs it) in a fresh temporary folder, removed with the object.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace tranche::gateway::testing {

struct TestCertificates {
  std::filesystem::path dir;
  std::string ca_file;    // the CA that signed the server's certificate: what a client trusts
  std::string cert_file;  // the server's certificate (SAN IP:127.0.0.1)
  std::string key_file;   // and its key
  std::string error;      // why they could not be made; empty when made

  TestCertificates() {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() /
          ("tranche-tls-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(dir);
    ca_file = (dir / "ca.pem").string();
    cert_file = (dir / "server.pem").string();
    key_file = (dir / "server.key").string();
    std::ofstream(dir / "san.ext") << "subjectAltName=IP:127.0.0.1\n";
    const std::string d = dir.string();
    const std::string script =
        "cd '" + d + "' && " +
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out "
        "ca.pem "
        "-days 2 -subj /CN=tranche-test-ca && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out "
        "server.csr "
        "-subj /CN=127.0.0.1 && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
        "-extfile san.ext";
    if (std::system(("(" + script + ") >'" + d + "/openssl.log' 2>&1").c_str()) != 0)
      error = "openssl could not make the test certificates (see " + d + "/openssl.log)";
  }
  ~TestCertificates() {
    std::error_code ignored;
    if (error.empty()) std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace tranche::gateway::testing
