// TLS identities loaded from PEM files, and OpenSSL's errors as text.
#include "http/server/tls.hpp"

#include <algorithm>
#include <optional>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace cqrs::http {

namespace {

/// Hands OpenSSL the password that `user` (a `const std::string*`, or
/// nullptr for none) points to.
int key_password(char* buf, int size, int, void* user) {
  if (user == nullptr)
    return 0;
  const auto& text = *static_cast<const std::string*>(user);
  auto n = std::min(text.size(), static_cast<size_t>(size));
  std::copy_n(text.data(), n, buf);
  return static_cast<int>(n);
}

/// Loads `files` into `ctx`; on failure returns the step that failed.
std::optional<tls_step> load(SSL_CTX* ctx, const tls_files& files) {
  SSL_CTX_set_default_passwd_cb(ctx, key_password);
  SSL_CTX_set_default_passwd_cb_userdata(
      ctx, const_cast<std::string*>(&files.key_password));
  std::optional<tls_step> failed;
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1)
    failed = tls_step::cert_file;
  else if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(),
                                       SSL_FILETYPE_PEM) != 1 ||
           SSL_CTX_check_private_key(ctx) != 1)
    failed = tls_step::key_file;
  else if (!files.ca_file.empty() &&
           SSL_CTX_load_verify_locations(ctx, files.ca_file.c_str(), nullptr) !=
               1)
    failed = tls_step::ca_file;
  // The context outlives `files`: it keeps no pointer to the password.
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
  return failed;
}

} // namespace

tls_context make_tls_context(const tls_files& files, tls_error& error) {
  ERR_clear_error();
  tls_context ctx{SSL_CTX_new(TLS_server_method()), SSL_CTX_free};
  if (!ctx) {
    error = {tls_step::context, openssl_errors()};
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // A client that closes without close_notify has just closed.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION |
                                     SSL_OP_NO_RENEGOTIATION |
                                     SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (auto step = load(ctx.get(), files)) {
    error = {*step, openssl_errors()};
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
