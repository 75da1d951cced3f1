// TLS for the HTTPS server: its OpenSSL context, and OpenSSL's errors as
// text.
#pragma once

#include <memory>
#include <string>

struct ssl_ctx_st;

namespace cqrs::http {

/// An OpenSSL server context, shared by the worker threads and the shedder.
using tls_context = std::shared_ptr<ssl_ctx_st>;

/// Loads the PEM certificate chain `cert_file` and the (unencrypted) key
/// `key_file` for serving TLS 1.2 or later. On failure returns nullptr and
/// sets `error` to OpenSSL's reason.
tls_context make_tls_context(const std::string& cert_file,
                             const std::string& key_file, std::string& error);

/// Drains the calling thread's OpenSSL error queue into one line, or
/// "unknown OpenSSL error" when it is empty.
std::string openssl_errors();

} // namespace cqrs::http
