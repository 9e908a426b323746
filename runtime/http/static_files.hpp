#pragma once
// Serves files from one directory (the dashboard). A request never leaves the directory: ".."
// segments are refused and the resolved path must stay inside the directory's canonical path, which
// also defeats symbolic links pointing outside it.

#include "runtime/http/message.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace cms::http {

/// Largest file served; the dashboard's files are far smaller, and reads happen on the io thread.
inline constexpr std::size_t max_static_file_bytes = 8 * 1024 * 1024;

/// Content type for a file name by extension (html, js, css, png, svg, json, ...);
/// application/octet-stream when unknown.
std::string content_type_for(std::string_view filename);

/// A handler for a prefix route ("/ui/*"): serves params["*"] relative to directory, index.html
/// for a directory. Throws std::invalid_argument when directory does not exist.
handler static_dir_handler(const std::string& directory);

} // namespace cms::http
