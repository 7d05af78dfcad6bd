#pragma once

#include <cstddef>
#include <string_view>

namespace signalbox {

// One file of the web page as compiled into the binary (web/ in the source tree).
struct WebAssetBytes {
  std::string_view path;  // "/index.html", "/app.js", ...
  std::string_view bytes;
};

// The files of web/, sorted by path; generated at build time by embed_assets.cmake.
extern const WebAssetBytes kWebAssets[];
extern const std::size_t kWebAssetCount;

// A file of the web page ready to serve. The bytes are static: valid for the whole program.
struct WebAsset {
  std::string_view bytes;
  std::string_view content_type;
};

// The file served at `path`: "/" is "/index.html"; other paths name a file of web/ exactly
// ("/app.js"). nullptr when there is none. Thread-safe (reads constant data only).
const WebAsset* find_web_asset(std::string_view path);

}  // namespace signalbox
