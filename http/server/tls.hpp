// TLS identities for the HTTPS server and the cluster: OpenSSL contexts
// loaded from PEM files, and OpenSSL's errors as text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

struct ssl_ctx_st;

namespace cqrs::http {

/// An OpenSSL server context, shared by the worker threads and the shedder.
using tls_context = std::shared_ptr<ssl_ctx_st>;

/// The PEM files of a TLS identity.
struct tls_files {
  /// The certificate chain presented to peers.
  std::string cert_file;
  /// The private key of `cert_file`.
  std::string key_file;
  /// Decrypts an encrypted `key_file`; empty for an unencrypted key.
  std::string key_password;
  /// CA certificates to check peers against; empty for none.
  std::string ca_file;
};

/// Which step of loading a TLS identity failed.
enum class tls_step : uint8_t {
  /// OpenSSL could not make a context.
  context,
  /// `cert_file` is not a PEM certificate chain.
  cert_file,
  /// `key_file` is not the PEM key of `cert_file`, or `key_password` does
  /// not decrypt it.
  key_file,
  /// `ca_file` holds no PEM CA certificate.
  ca_file,
};

/// Why loading a TLS identity failed.
struct tls_error {
  tls_step step = tls_step::context;
  /// OpenSSL's reason.
  std::string reason;
};

/// Makes a server context for TLS 1.2 or later with `files` loaded. It is
/// the one loader of certificate files: the HTTPS server's, and the
/// cluster's, which `main` checks with it before CAF loads them. A key that
/// `key_password` does not decrypt fails to load instead of prompting on
/// the terminal. On failure returns nullptr and sets `error`.
tls_context make_tls_context(const tls_files& files, tls_error& error);

/// Drains the calling thread's OpenSSL error queue into one line, or
/// "unknown OpenSSL error" when it is empty.
std::string openssl_errors();

} // namespace cqrs::http
