#include "runtime/http/static_files.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace cms::http {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// True when every component of base is a leading component of p (both canonical).
bool is_within(const fs::path& base, const fs::path& p) {
  auto b = base.begin();
  auto q = p.begin();
  for (; b != base.end(); ++b, ++q) {
    if (q == p.end() || *b != *q)
      return false;
  }
  return true;
}

response refuse(unsigned status, std::string_view message, const char* reason) {
  auto r = json_error(status, message);
  r.error_reason = reason;
  return r;
}

response serve(const fs::path& root, const std::string& rest) {
  // Reject traversal explicitly rather than relying on normalisation alone: the refusal is
  // counted and the client learns why.
  std::string relative = rest;
  // "//etc/passwd" would otherwise make an absolute path that replaces the root when joined.
  relative.erase(0, relative.find_first_not_of('/') == std::string::npos
                      ? relative.size()
                      : relative.find_first_not_of('/'));
  std::size_t start = 0;
  while (start <= relative.size()) {
    auto slash = relative.find('/', start);
    auto segment = std::string_view(relative).substr(
      start, slash == std::string::npos ? std::string::npos : slash - start);
    if (segment == ".." || segment == "." || segment.find('\\') != std::string_view::npos)
      return refuse(400, "path traversal refused", "path_traversal");
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }

  std::error_code ec;
  fs::path candidate = root / fs::path(relative);
  if (relative.empty() || relative.back() == '/' || fs::is_directory(candidate, ec))
    candidate /= "index.html";
  auto resolved = fs::weakly_canonical(candidate, ec);
  if (ec || !is_within(root, resolved))
    return refuse(400, "path traversal refused", "path_traversal");
  if (!fs::is_regular_file(resolved, ec))
    return refuse(404, "no such file: /" + relative, "not_found");
  auto size = fs::file_size(resolved, ec);
  if (ec)
    return refuse(404, "no such file: /" + relative, "not_found");
  if (size > max_static_file_bytes)
    return refuse(500, "file too large to serve", "static_too_large");

  std::ifstream in(resolved, std::ios::binary);
  if (!in)
    return refuse(403, "file not readable", "static_unreadable");
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  response r;
  r.status = 200;
  r.content_type = content_type_for(resolved.filename().string());
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

} // namespace

std::string content_type_for(std::string_view filename) {
  auto dot = filename.rfind('.');
  if (dot == std::string_view::npos)
    return "application/octet-stream";
  auto ext = lower(filename.substr(dot + 1));
  if (ext == "html" || ext == "htm")
    return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs")
    return "text/javascript; charset=utf-8";
  if (ext == "css")
    return "text/css; charset=utf-8";
  if (ext == "json")
    return "application/json";
  if (ext == "png")
    return "image/png";
  if (ext == "svg")
    return "image/svg+xml";
  if (ext == "ico")
    return "image/x-icon";
  if (ext == "txt")
    return "text/plain; charset=utf-8";
  if (ext == "woff2")
    return "font/woff2";
  return "application/octet-stream";
}

handler static_dir_handler(const std::string& directory) {
  std::error_code ec;
  auto root = fs::canonical(directory, ec);
  if (ec || !fs::is_directory(root))
    throw std::invalid_argument("static directory does not exist: '" + directory + "'");
  return [root](const request& req, respond_fn respond) { respond(serve(root, req.param("*"))); };
}

} // namespace cms::http
