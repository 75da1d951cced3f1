// TLS against real processes on loopback: HTTPS on the gateway, and cluster
// links that only nodes holding a certificate signed by the cluster CA can
// open. Certificates are made at test time with the openssl command line
// tool. The cluster cases need PostgreSQL (CQRSD_TEST_POSTGRESQL, started by
// scripts/test.sh).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fixtures/api_model.hpp"
#include "fixtures/cluster.hpp"
#include "fixtures/cqrsd_process.hpp"

using namespace cqrs::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

/// How long a query node may take to link.
constexpr auto link_timeout = 20s;

/// Counts the occurrences of `needle` in `text`.
size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size()))
    ++n;
  return n;
}

/// A throw-away PKI in a temporary directory: the cluster CA `ca` with the
/// node certificates `node` and `other` (the latter's key encrypted with
/// `key_password`), and an unrelated CA `rogue` with its own node
/// certificate `rogue-node`. Node certificates are for 127.0.0.1 and
/// localhost.
struct certificates {
  certificates() {
    char pattern[] = "/tmp/cqrsd-tls-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    BOOST_REQUIRE(made != nullptr);
    dir = made;
    make_ca("ca");
    make_ca("rogue");
    make_node("node", "ca");
    make_node("other", "ca");
    make_node("rogue-node", "rogue");
    openssl("pkey -in " + key("other") + " -aes256 -passout pass:" +
            key_password + " -out " + file("other.enc.key"));
  }

  ~certificates() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  std::string file(const std::string& name) const { return dir + "/" + name; }
  std::string pem(const std::string& name) const { return file(name + ".pem"); }
  std::string key(const std::string& name) const { return file(name + ".key"); }

  /// Writes `text` into the directory and returns the path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream out{file(name)};
    out << text;
    out.close();
    BOOST_REQUIRE(out.good());
    return file(name);
  }

  /// Settings that give a node the certificate `name` with the key file
  /// `key_file` (default: its plain key), trusting `ca`. `extra` goes into
  /// the cluster.tls mapping as it is.
  cqrsd_process::overrides cluster_tls(const std::string& name,
                                       const std::string& ca = "ca",
                                       std::string key_file = "",
                                       const std::string& extra = "") const {
    if (key_file.empty())
      key_file = key(name);
    return {{"cluster.tls", "{ca_file: " + quote_yaml(pem(ca)) +
                                ", cert_file: " + quote_yaml(pem(name)) +
                                ", key_file: " + quote_yaml(key_file) + extra +
                                "}"}};
  }

  std::string dir;
  const std::string key_password = "correct-horse";

private:
  void openssl(const std::string& args) const {
    auto command = "openssl " + args + " >>" + file("openssl.log") + " 2>&1";
    BOOST_REQUIRE_MESSAGE(std::system(command.c_str()) == 0,
                          "failed: " << command << "\n"
                                     << read_all(file("openssl.log")));
  }

  static std::string read_all(const std::string& path) {
    std::ifstream in{path};
    return std::string{std::istreambuf_iterator<char>{in}, {}};
  }

  void make_ca(const std::string& name) const {
    openssl("req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=" + name +
            " test CA' -keyout " + key(name) + " -out " + pem(name));
  }

  void make_node(const std::string& name, const std::string& ca) const {
    auto ext =
        write(name + ".ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                             "basicConstraints=CA:FALSE\n");
    openssl("req -newkey rsa:2048 -nodes -subj '/CN=" + name + "' -keyout " +
            key(name) + " -out " + file(name + ".csr"));
    openssl("x509 -req -days 2 -in " + file(name + ".csr") + " -CA " + pem(ca) +
            " -CAkey " + key(ca) + " -CAcreateserial -extfile " + ext +
            " -out " + pem(name));
  }
};

/// The settings of an HTTPS gateway with the certificate `name`.
cqrsd_process::overrides https_settings(const certificates& certs,
                                        const std::string& name = "node") {
  return {{"http.tls", "{cert_file: " + quote_yaml(certs.pem(name)) +
                           ", key_file: " + quote_yaml(certs.key(name)) + "}"}};
}

/// Polls `node`'s log until it holds `needle` `times` times, at most
/// `timeout`. Returns whether it did.
bool wait_log(const cqrsd_process& node, const std::string& needle,
              size_t times, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (count_of(node.log(), needle) >= times)
      return true;
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(50ms);
  }
}

/// Writes a category through `node` and reads it back there with
/// X-Min-Seq; requires both to succeed.
void write_and_read(cqrsd_process& node, const std::string& description) {
  auto w = node.post("/categories", category_body(description));
  BOOST_REQUIRE_MESSAGE(w.status == 201, w.describe());
  auto ack = w.json_body();
  auto id = ack.value("id", int64_t{0});
  auto seq = ack.value("seq", int64_t{0});
  BOOST_REQUIRE(id > 0);
  auto r = node.get("/categories/" + std::to_string(id),
                    {{"X-Min-Seq", std::to_string(seq)}});
  BOOST_TEST(r.status == 200, r.describe());
  BOOST_TEST(r.json_body() == (json{{"id", id}, {"description", description}}),
             r.describe());
  BOOST_TEST(r.x_seq().value_or(-1) >= seq, r.describe());
}

} // namespace

BOOST_AUTO_TEST_SUITE(tls)

// -- HTTPS --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(https_serves_writes_and_reads) {
  certificates certs;
  cqrsd_process::options opts;
  opts.settings = https_settings(certs);
  opts.https_ca_file = certs.pem("ca");
  opts.name = "https";
  cqrsd_process node{std::move(opts)};
  BOOST_TEST(node.log().find("serving https://127.0.0.1:" +
                             std::to_string(node.port())) != std::string::npos,
             node.log());

  BOOST_TEST_MESSAGE("a write and a read over HTTPS, verified against the CA");
  write_and_read(node, "over https");
  httplib::SSLClient verified{"127.0.0.1", node.port()};
  verified.set_ca_cert_path(certs.pem("ca").c_str());
  verified.enable_server_certificate_verification(true);
  verified.set_connection_timeout(5, 0);
  auto res = verified.Get("/readyz");
  BOOST_TEST((res && res->status == 200),
             "error " << httplib::to_string(res.error()));

  BOOST_TEST_MESSAGE("a client trusting another CA refuses the server");
  httplib::SSLClient distrustful{"127.0.0.1", node.port()};
  distrustful.set_ca_cert_path(certs.pem("rogue").c_str());
  distrustful.enable_server_certificate_verification(true);
  distrustful.set_connection_timeout(5, 0);
  res = distrustful.Get("/readyz");
  BOOST_TEST(!res, "answered " << res->status);
  BOOST_TEST((res.error() == httplib::Error::SSLServerVerification),
             httplib::to_string(res.error()));

  BOOST_TEST_MESSAGE("plain HTTP on the HTTPS port gets no HTTP answer");
  auto raw = node.raw_request("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n");
  BOOST_TEST(raw.rfind("HTTP/", 0) != 0, "answered: " << raw);
  httplib::Client plain{"127.0.0.1", node.port()};
  plain.set_connection_timeout(5, 0);
  plain.set_read_timeout(5, 0);
  auto a = send_request(plain, "GET", "/healthz");
  BOOST_TEST(!a.answered(), a.describe());

  BOOST_TEST_MESSAGE("the server still serves HTTPS after those attempts");
  write_and_read(node, "still over https");
}

BOOST_AUTO_TEST_CASE(https_certificate_errors_stop_the_start) {
  certificates certs;
  auto missing = certs.file("missing.pem");
  auto port = std::to_string(pick_free_port());
  auto config = [&](const std::string& name, const std::string& cert,
                    const std::string& key) {
    return certs.write(name,
                       "http:\n  listen: \"127.0.0.1:" + port +
                           "\"\n  tls:\n    cert_file: " + quote_yaml(cert) +
                           "\n    key_file: " + quote_yaml(key) +
                           "\ndatabase:\n  sqlite_path: " +
                           quote_yaml(certs.file(name + ".db")) + "\n");
  };

  BOOST_TEST_MESSAGE("a missing certificate is a config error naming the key");
  auto path = config("missing.yaml", missing, certs.key("node"));
  for (auto mode : {"--check-config", "--config"}) {
    auto r = run_cqrsd({mode, path});
    BOOST_TEST(r.exit_code == 2, mode << ": " << r.err);
    BOOST_TEST(r.err.find("config error: http.tls.cert_file: cannot read '" +
                          missing + "'") != std::string::npos,
               mode << ": " << r.err);
  }

  BOOST_TEST_MESSAGE("a key that does not belong to the certificate stops "
                     "the start with exit 1 and OpenSSL's reason");
  path = config("mismatch.yaml", certs.pem("node"), certs.key("rogue-node"));
  BOOST_TEST(run_cqrsd({"--check-config", path}).exit_code == 0);
  auto r = run_cqrsd({"--config", path});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(r.err.find("cannot serve HTTPS with http.tls.cert_file") !=
                 std::string::npos,
             r.err);
  BOOST_TEST(r.err.find("key values mismatch") != std::string::npos, r.err);
}

// -- cluster links ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(nodes_with_ca_signed_certificates_link) {
  certificates certs;
  test_cluster c;
  BOOST_TEST_MESSAGE("the command node's key is encrypted; the password "
                     "comes from the environment");
  test_cluster::node_options command_opts;
  command_opts.settings =
      certs.cluster_tls("other", "ca", certs.file("other.enc.key"),
                        ", key_password: \"${CQRSD_TEST_KEY_PASSWORD}\"");
  command_opts.env = {{"CQRSD_TEST_KEY_PASSWORD", certs.key_password}};
  auto& cmd = c.start_command(command_opts);
  BOOST_TEST(cmd.log().find(
                 "published on 127.0.0.1:" + std::to_string(c.cluster_port()) +
                 " (TLS") != std::string::npos,
             cmd.log());
  test_cluster::node_options query_opts;
  query_opts.settings = certs.cluster_tls("node");
  auto& q1 = c.start_query("q1", query_opts);
  auto state = wait_link_state(q1, "linked", "in_use", link_timeout);
  BOOST_REQUIRE_MESSAGE(state.is("linked", "in_use"), state.raw);

  BOOST_TEST_MESSAGE("writes through the query node reach the command node "
                     "and read back on both");
  write_and_read(q1, "written via q1 over TLS");
  auto w = q1.post("/categories", category_body("second"));
  BOOST_REQUIRE_MESSAGE(w.status == 201, w.describe());
  auto seq = w.json_body().value("seq", int64_t{0});
  auto r = cmd.get("/categories/" +
                       std::to_string(w.json_body().value("id", int64_t{0})),
                   {{"X-Min-Seq", std::to_string(seq)}});
  BOOST_TEST(r.status == 200, r.describe());
  BOOST_TEST(r.json_body().value("description", "") == "second", r.describe());

  BOOST_TEST_MESSAGE("several heartbeat timeouts later the node is linked "
                     "and writes through it still land");
  std::this_thread::sleep_for(std::chrono::milliseconds{
      4 * c.config().heartbeat_interval_ms * c.config().missed_heartbeats});
  state = wait_link_state(q1, "linked", "in_use", link_timeout);
  BOOST_REQUIRE_MESSAGE(state.is("linked", "in_use"), state.raw);
  write_and_read(q1, "later via q1 over TLS");
}

BOOST_AUTO_TEST_CASE(nodes_without_a_ca_signed_certificate_never_link) {
  certificates certs;
  test_cluster c;
  test_cluster::node_options command_opts;
  command_opts.settings = certs.cluster_tls("node");
  auto& cmd = c.start_command(command_opts);

  BOOST_TEST_MESSAGE("rogue1 presents a certificate of another CA (the "
                     "command node refuses it); rogue2 trusts only that "
                     "other CA (it refuses the command node); plain has no "
                     "TLS at all");
  test_cluster::node_options rogue1_opts;
  rogue1_opts.settings = certs.cluster_tls("rogue-node", "ca");
  auto& rogue1 = c.start_query("rogue1", rogue1_opts);
  test_cluster::node_options rogue2_opts;
  rogue2_opts.settings = certs.cluster_tls("rogue-node", "rogue");
  auto& rogue2 = c.start_query("rogue2", rogue2_opts);
  auto& plain = c.start_query("plain");

  for (auto* node : {&rogue1, &rogue2, &plain}) {
    BOOST_TEST_CONTEXT("node " << node->name()) {
      // Three failed attempts (backoff 100, 200, 400 ms) show it keeps
      // trying and keeps failing.
      BOOST_TEST(
          wait_log(*node, "cannot reach the command node", 3, link_timeout),
          node->log());
      auto state = read_link_state(*node);
      BOOST_TEST(state.is("unreachable", "bypassed"), state.raw);
      BOOST_TEST(count_of(node->log(), "linked to 127.0.0.1") == 0u,
                 node->log());
      auto w = node->post("/categories", category_body("must not land"));
      BOOST_TEST(w.status == 503, w.describe());
    }
  }

  BOOST_TEST_MESSAGE("nothing was written; the command node never saw a "
                     "subscription and still serves its own writes");
  auto db = c.make_oracle();
  BOOST_TEST(db->max_seq() == 0);
  BOOST_TEST(count_of(cmd.log(), "subscribed at seq") == 1u, cmd.log());
  write_and_read(cmd, "written on the command node");

  BOOST_TEST_MESSAGE("a query node with a CA-signed certificate links to the "
                     "same command node");
  test_cluster::node_options good_opts;
  good_opts.settings = certs.cluster_tls("other");
  auto& good = c.start_query("good", good_opts);
  auto state = wait_link_state(good, "linked", "in_use", link_timeout);
  BOOST_TEST(state.is("linked", "in_use"), state.raw);
  write_and_read(good, "written via good");
}

BOOST_AUTO_TEST_SUITE_END()
