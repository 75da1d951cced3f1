// Reading YAML files safely: one document, bounded work, named nodes.
#include "config/yaml_document.hpp"

#include <cerrno>
#include <cstdio>
#include <exception>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/eventhandler.h>

namespace cqrs {

namespace {

// Counts the documents and nodes of a YAML stream without building them.
// yaml-cpp 0.7 loops forever on some malformed input (a ',' where a block
// node starts, e.g. a file holding just ","), producing null nodes without
// reading on; a valid stream has fewer nodes than it has bytes plus a few,
// so past that bound this throws instead.
class yaml_stream_check : public YAML::EventHandler {
public:
  explicit yaml_stream_check(size_t text_size)
      : max_events_(2 * text_size + 16) {}

  size_t documents = 0;

  void OnDocumentStart(const YAML::Mark&) override {
    ++documents;
    count();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { count(); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { count(); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    count();
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    count();
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    count();
  }
  void OnMapEnd() override {}

private:
  void count() {
    if (++events_ > max_events_)
      throw std::runtime_error{"malformed YAML (the parser makes no progress; "
                               "is there a stray ','?)"};
  }

  size_t events_ = 0;
  size_t max_events_;
};

} // namespace

std::optional<YAML::Node> load_yaml_document(const std::string& text,
                                             const std::string& what,
                                             std::string& error) {
  try {
    // Check the stream before yaml-cpp builds it (see yaml_stream_check).
    yaml_stream_check check{text.size()};
    std::istringstream in{text};
    YAML::Parser stream{in};
    while (stream.HandleNextDocument(check)) {
    }
    if (check.documents > 1) {
      error =
          "expected one YAML document, got " + std::to_string(check.documents);
      return std::nullopt;
    }
    if (check.documents == 0)
      return YAML::Node{YAML::NodeType::Null};
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    error = e.what();
  } catch (const std::exception& e) {
    error = "cannot parse " + what + ": " + e.what();
  }
  return std::nullopt;
}

std::string describe_yaml_node(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Scalar:
    return "'" + node.Scalar() + "'";
  case YAML::NodeType::Sequence:
    return "a sequence";
  case YAML::NodeType::Map:
    return "a mapping";
  case YAML::NodeType::Null:
    return "null";
  default:
    return "nothing";
  }
}

std::optional<std::string> read_text_file(const std::string& path,
                                          int& error_code) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error_code = errno;
    return std::nullopt;
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    auto n = std::fread(buffer, 1, sizeof(buffer), file);
    text.append(buffer, n);
    if (n < sizeof(buffer))
      break;
  }
  if (std::ferror(file)) {
    error_code = errno;
    std::fclose(file);
    return std::nullopt;
  }
  std::fclose(file);
  return text;
}

} // namespace cqrs
