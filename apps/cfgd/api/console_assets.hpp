// The console's files (apps/cfgd/console), compiled into cfgd by
// embed_console.cmake: /ui is served from memory, never from the disk.
#pragma once

#include <cstddef>
#include <string_view>

namespace cfgd::console {

/// One embedded file.
struct asset {
  std::string_view name;         ///< relative to apps/cfgd/console: `app.js`
  std::string_view content_type; ///< from the extension, with charset
  std::string_view etag;         ///< quoted, from the content's SHA-256
  std::string_view body;
};

/// Every file (generated: console_assets.cpp).
extern const asset assets[];
extern const std::size_t asset_count;

} // namespace cfgd::console
