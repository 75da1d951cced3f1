// TLS for the HTTPS server: its OpenSSL context, and OpenSSL's errors as
// text.
#include "http/server/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace cqrs::http {

tls_context make_tls_context(const std::string& cert_file,
                             const std::string& key_file, std::string& error) {
  ERR_clear_error();
  tls_context ctx{SSL_CTX_new(TLS_server_method()), SSL_CTX_free};
  if (!ctx) {
    error = openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // A client that closes without close_notify has just closed.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION |
                                     SSL_OP_NO_RENEGOTIATION |
                                     SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // An encrypted key fails to load instead of prompting on the terminal.
  SSL_CTX_set_default_passwd_cb(ctx.get(),
                                [](char*, int, int, void*) { return 0; });
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    error = openssl_errors();
    return nullptr;
  }
  return ctx;
}

std::string openssl_errors() {
  std::string result;
  while (auto code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    if (!result.empty())
      result += "; ";
    result += text;
  }
  return result.empty() ? "unknown OpenSSL error" : result;
}

} // namespace cqrs::http
