#include "signalbox/web/web_assets.h"

#include <unordered_map>

namespace signalbox {

namespace {

std::string_view content_type_of(std::string_view path) {
  auto ends_with = [&](std::string_view suffix) { return path.ends_with(suffix); };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// Built once, on first use; read-only afterwards.
const std::unordered_map<std::string_view, WebAsset>& assets_by_path() {
  static const auto* assets = [] {
    auto* map = new std::unordered_map<std::string_view, WebAsset>();
    for (std::size_t i = 0; i < kWebAssetCount; ++i) {
      const WebAssetBytes& file = kWebAssets[i];
      (*map)[file.path] = WebAsset{file.bytes, content_type_of(file.path)};
    }
    return map;
  }();
  return *assets;
}

}  // namespace

const WebAsset* find_web_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  const auto& assets = assets_by_path();
  auto it = assets.find(path);
  return it == assets.end() ? nullptr : &it->second;
}

}  // namespace signalbox
