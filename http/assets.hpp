// The web pages a node serves beside its API: `/docs` (Swagger UI on the
// node's own /openapi.json) and `/console` (the operator console). Their
// files are read from one folder once, at start, and answered from memory:
// a request can only name a file that was there at start, so no path,
// however spelled, reaches outside the folder.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace httplib {
struct Request;
struct Response;
} // namespace httplib

namespace cqrs::http {

/// One file of the folder, ready to answer.
struct asset {
  std::string body;
  std::string_view content_type;
  /// A strong validator of `body`, quoted: `"<hex>"`.
  std::string etag;
  bool html = false;

  /// `body` gzipped, for clients that accept gzip; empty when that would
  /// not make it smaller. Made by the first request that asks, once, and
  /// kept (not at load: zlib's best level takes about 100 ms for Swagger
  /// UI, which every start would pay). cpp-httplib would otherwise compress
  /// each answer anew, at Brotli's slowest level: 3 s for Swagger UI.
  const std::string& gzipped() const;

private:
  struct gzip_cache {
    std::once_flag once;
    std::string data;
  };
  /// Shared by the copies of an asset (a page's index has three paths).
  std::shared_ptr<gzip_cache> gzip_ = std::make_shared<gzip_cache>();
};

/// The files of a web folder, by URL path.
class asset_folder {
public:
  /// The pages, each a subfolder of the web folder, served at `/<page>`.
  static constexpr std::string_view pages[] = {"docs", "console"};

  /// Limits of a web folder: its files are held in memory.
  static constexpr size_t max_files = 512;
  static constexpr size_t max_bytes = 64u << 20;

  asset_folder() = default;

  /// Reads the pages of `dir`. A page whose subfolder is missing is left
  /// out; `problem()` says why a page, or the whole folder, is not served.
  static asset_folder load(const std::string& dir);

  /// The file a URL path names, or nullptr. `/<page>` and `/<page>/` name
  /// the page's `index.html`.
  const asset* find(std::string_view path) const;

  /// The folder it was read from.
  const std::string& dir() const noexcept { return dir_; }

  /// What is not served and why (empty when every page is).
  const std::string& problem() const noexcept { return problem_; }

  size_t files() const noexcept { return files_; }
  size_t bytes() const noexcept { return bytes_; }

private:
  std::string dir_;
  std::string problem_;
  std::map<std::string, asset, std::less<>> by_path_;
  size_t files_ = 0;
  size_t bytes_ = 0;
};

/// The web folder installed with the running executable: `web/` beside
/// it, else `../share/cqrsd/web` from its folder; "" when neither exists.
std::string installed_assets_dir();

/// Answers a GET or HEAD of an asset route from `folder`: 200 with the file
/// (gzipped when the client accepts it), 304 when `If-None-Match` holds its
/// ETag, 404 when there is no such file.
void answer_asset(const asset_folder& folder, const httplib::Request& req,
                  httplib::Response& res);

} // namespace cqrs::http
