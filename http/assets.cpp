// The web folder: reading it at start, answering from memory.
#include "http/assets.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>

#include <httplib.h>
#include <zlib.h>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "http/replies.hpp"

namespace cqrs::http {

namespace fs = std::filesystem;

namespace {

/// How deep below a page's folder files are looked for.
constexpr int max_depth = 4;

/// The content types of the extensions a web page uses; anything else is
/// served as bytes, which `nosniff` keeps a browser from running.
std::string_view content_type_of(const std::string& extension) {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (const auto& [ext, type] : types)
    if (extension == ext)
      return type;
  return "application/octet-stream";
}

/// Whether `name` is a file or folder name a URL can spell as it is: no
/// dot files (and so no `..`), nothing a browser would escape.
bool servable_name(const std::string& name) {
  return !name.empty() && name.front() != '.' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
         });
}

/// `"<hex>"`: the first 128 bits of the body's SHA-256.
std::string etag_of(const std::string& body) {
  return '"' + sha256_hex({body}).substr(0, 32) + '"';
}

/// `body` in the gzip format at zlib's best compression; empty when zlib
/// fails or the result is no smaller.
std::string gzip_of(const std::string& body) {
  z_stream z{};
  // 15 + 16: a 32 KiB window with a gzip header and trailer.
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return {};
  std::string out(deflateBound(&z, body.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  auto rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END || out.size() >= body.size())
    return {};
  return out;
}

/// `x` without the spaces and tabs around it.
std::string_view trimmed(std::string_view x) {
  while (!x.empty() && (x.front() == ' ' || x.front() == '\t'))
    x.remove_prefix(1);
  while (!x.empty() && (x.back() == ' ' || x.back() == '\t'))
    x.remove_suffix(1);
  return x;
}

/// The first item of the comma-separated header value `list`, trimmed, for
/// which `pred` holds; nullopt when none does.
template <class Pred>
std::optional<std::string_view> first_item(std::string_view list, Pred pred) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = trimmed(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{}
                                           : list.substr(comma + 1);
    if (pred(item))
      return item;
  }
  return std::nullopt;
}

/// Whether an `Accept-Encoding` value accepts gzip: the first item that
/// names `gzip` or `*` decides, and does unless its weight is `q=0`
/// (RFC 9110 §12.5.3).
bool accepts_gzip(std::string_view header) {
  auto item = first_item(header, [](std::string_view x) {
    auto coding = trimmed(x.substr(0, x.find(';')));
    return coding == "gzip" || coding == "x-gzip" || coding == "*";
  });
  if (!item)
    return false;
  auto semicolon = item->find(';');
  if (semicolon == std::string_view::npos)
    return true;
  auto q = trimmed(item->substr(semicolon + 1));
  // q=0, q=0.0, q=0.00, q=0.000 refuse it; any other weight accepts.
  return !(q.substr(0, 3) == "q=0" &&
           q.find_first_not_of("0.", 2) == std::string_view::npos);
}

/// Whether an `If-None-Match` value names `etag` (RFC 9110 §13.1.2: weak
/// comparison, a list, or `*`).
bool none_match_holds(std::string_view header, std::string_view etag) {
  return first_item(header,
                    [&](std::string_view item) {
                      if (item.substr(0, 2) == "W/")
                        item.remove_prefix(2);
                      return item == "*" || item == etag;
                    })
      .has_value();
}

/// The Content-Security-Policy of a page's HTML: its own scripts, styles
/// and images, requests to this node only, no frames, no forms that post
/// elsewhere. Swagger UI sets inline styles, so /docs allows those.
std::string_view policy_of(std::string_view page) {
  if (page == "docs")
    return "default-src 'none'; script-src 'self'; "
           "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
           "connect-src 'self'; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'";
  return "default-src 'none'; script-src 'self'; style-src 'self'; "
         "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
         "form-action 'none'; frame-ancestors 'none'";
}

} // namespace

const std::string& asset::gzipped() const {
  std::call_once(gzip_->once, [this] { gzip_->data = gzip_of(body); });
  return gzip_->data;
}

asset_folder asset_folder::load(const std::string& dir) {
  asset_folder result;
  result.dir_ = dir;
  if (dir.empty()) {
    result.problem_ = "no web folder is installed with the executable "
                      "(set http.assets_dir)";
    return result;
  }
  std::vector<std::string> missing;
  for (auto page : pages) {
    auto root = fs::path{dir} / std::string{page};
    std::error_code ec;
    if (!fs::is_regular_file(root / "index.html", ec)) {
      missing.push_back(std::string{page} + "/index.html");
      continue;
    }
    fs::recursive_directory_iterator it{root, ec};
    for (; !ec && it != fs::recursive_directory_iterator{}; it.increment(ec)) {
      // Errors about one entry (a dangling link, say) skip that entry; only
      // the walk's own errors, in `ec`, end it.
      std::error_code entry_ec;
      auto name = it->path().filename().string();
      if (!servable_name(name) || it.depth() >= max_depth) {
        if (it->is_directory(entry_ec))
          it.disable_recursion_pending();
        continue;
      }
      // Symbolic links are not followed: every file served lies inside.
      if (it->is_symlink(entry_ec) || !it->is_regular_file(entry_ec))
        continue;
      if (result.files_ == max_files) {
        result.problem_ = "more than " + std::to_string(max_files) +
                          " files in '" + dir + "'; the rest are not served";
        break;
      }
      std::ifstream in{it->path(), std::ios::binary};
      std::string body{std::istreambuf_iterator<char>{in}, {}};
      if (!in.good() && !in.eof())
        continue;
      if (result.bytes_ + body.size() > max_bytes) {
        result.problem_ = "'" + dir + "' holds more than " +
                          std::to_string(max_bytes >> 20) +
                          " MiB; the rest is not served";
        break;
      }
      auto relative = it->path().lexically_relative(root).generic_string();
      auto url = "/" + std::string{page} + "/" + relative;
      asset a;
      a.content_type = content_type_of(it->path().extension().string());
      a.html = a.content_type.substr(0, 9) == "text/html";
      a.etag = etag_of(body);
      a.body = std::move(body);
      result.bytes_ += a.body.size();
      ++result.files_;
      if (relative == "index.html") {
        result.by_path_.emplace("/" + std::string{page}, a);
        result.by_path_.emplace("/" + std::string{page} + "/", a);
      }
      result.by_path_.emplace(std::move(url), std::move(a));
    }
    if (ec)
      result.problem_ = "cannot read '" + root.string() + "': " + ec.message();
  }
  if (!missing.empty() && result.problem_.empty()) {
    std::string list;
    for (const auto& m : missing)
      list += (list.empty() ? "" : ", ") + m;
    result.problem_ = "'" + dir + "' has no " + list;
  }
  return result;
}

const asset* asset_folder::find(std::string_view path) const {
  auto i = by_path_.find(path);
  return i == by_path_.end() ? nullptr : &i->second;
}

std::string installed_assets_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    return {};
  auto folder = exe.parent_path();
  for (auto candidate :
       {folder / "web", folder / ".." / "share" / "cqrsd" / "web"}) {
    if (fs::is_directory(candidate, ec))
      return candidate.lexically_normal().string();
  }
  return {};
}

void answer_asset(const asset_folder& folder, const httplib::Request& req,
                  httplib::Response& res) {
  const auto* file = folder.find(req.path);
  if (file == nullptr) {
    // Where the folder is and what it lacks is for the log, not for clients.
    auto page = req.path.substr(0, req.path.find('/', 1));
    reply_error(res, ec::not_found,
                folder.find(page) == nullptr
                    ? "'" + page +
                          "' is not installed on this node; its log says why"
                    : "no file '" + req.path + "'");
    return;
  }
  res.set_header("ETag", file->etag);
  // Revalidate on every load (a 304 costs a round trip, not the file), so
  // that a new cqrsd's pages are never mixed with an old one's scripts.
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Vary", "Accept-Encoding");
  if (file->html) {
    auto page = req.path.substr(1, req.path.find('/', 1) - 1);
    res.set_header("Content-Security-Policy", std::string{policy_of(page)});
    res.set_header("Referrer-Policy", "no-referrer");
  }
  if (none_match_holds(req.get_header_value("If-None-Match"), file->etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  // A content provider with a length: cpp-httplib sends it as it is,
  // without compressing it again.
  const std::string* body = &file->body;
  if (accepts_gzip(req.get_header_value("Accept-Encoding")) &&
      !file->gzipped().empty()) {
    body = &file->gzipped();
    res.set_header("Content-Encoding", "gzip");
  }
  res.set_content_provider(
      body->size(), std::string{file->content_type},
      [body](size_t offset, size_t length, httplib::DataSink& sink) {
        return sink.write(body->data() + offset, length);
      });
}

} // namespace cqrs::http
