// A fix for CAF 0.17.6's TLS transport, which cuts healthy cluster links.
//
// OpenSSL asks callers to empty the thread's error queue before each TLS I/O
// call: SSL_get_error() reads that queue, so an error left in it by an
// earlier call, on any connection, turns a mere "would block" into
// SSL_ERROR_SSL. CAF's OpenSSL module (libcaf_openssl, session.cpp) never
// empties it, and runs every connection of a node on one multiplexer thread.
// A peer whose handshake fails (say, a node without a certificate signed by
// the cluster CA) leaves its verification errors in that thread's queue; the
// next read of another, healthy connection that would block is then taken
// for a fatal error, and CAF closes it. The `tls` suite saw exactly that: a
// properly certified query node lost its link a few milliseconds after a
// rogue node's refused handshake, in about one run in three.
//
// Debian packages CAF as a shared library, so the fix goes here: the
// executable defines the four TLS I/O entry points CAF calls. Each empties
// the calling thread's error queue and calls OpenSSL's own function. The
// dynamic linker binds libcaf_openssl's (and every other library's)
// references to these definitions, because the executable comes first in
// the lookup order. Emptying the queue first is what OpenSSL documents, so
// the other users of these functions in the process (libpq, cpp-httplib)
// are served exactly as before.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

// OpenSSL's own definition of `name`: the next one after the executable's.
template <class Function> Function openssl_function(const char* name) {
  auto f = reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
  if (f == nullptr) {
    std::fprintf(stderr, "cqrsd: cannot find OpenSSL's %s: %s\n", name,
                 dlerror());
    std::abort();
  }
  return f;
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto next =
      openssl_function<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto next =
      openssl_function<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static const auto next = openssl_function<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return next(ssl);
}

int SSL_accept(SSL* ssl) {
  static const auto next = openssl_function<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return next(ssl);
}

} // extern "C"
